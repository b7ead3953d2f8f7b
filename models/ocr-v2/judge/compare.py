#!/usr/bin/env python3
"""Two readers judged image by image, as RUNS.md's "How a run is judged" says.

    compare.py A_OUT B_OUT [--s80 DIR]

A_OUT and B_OUT are judge.sh's output folders. Prints each reader's top-1 counts (crops,
us-dev, eu-dev, the dev sum, seed 80n and seed 80z: seed 80's reads against labels whose US
plates write the letter O as 0), then the images only one of them reads, with the exact
two-sided McNemar p (binomial at one half on those images). Texts are compared as
score-plates compares them: upper case, spaces and dashes dropped.
"""
import argparse
import csv
import importlib.machinery
import importlib.util
import os
from math import comb

ROOT = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("ALPR_DEV_DATA", os.path.join(ROOT, "..", "..", "..", "..", "shared", "data"))


def load_scorer():
    """score-plates itself ($SCORE_PLATES, else bin/score-plates beside the data), so that
    texts, labels and reads are parsed and normalised exactly as every report's figures."""
    path = os.environ.get("SCORE_PLATES", os.path.join(DATA, "..", "bin", "score-plates"))
    loader = importlib.machinery.SourceFileLoader("score_plates", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


SCORER = load_scorer()


def crop_truth(csv_path):
    """A crops groundtruth.csv's labels, as score-plates' crop mode reads them."""
    with open(csv_path, newline="") as f:
        return {os.path.basename(r[0]): SCORER.norm(r[-1]) for r in csv.reader(f) if len(r) >= 3}


def photo_truth(folder):
    return {name: text for name, (_, text) in SCORER.load_gt_dir(folder).items()}


def first_reads(out, name):
    """Each image's first text: a crop's read, or a photo's first plate's."""
    reads = {}
    for image, o in SCORER.load_preds(os.path.join(out, name + ".jsonl")).items():
        if "plates" in o:
            text = o["plates"][0].get("text") if o["plates"] else ""
        else:
            text = o.get("text")
        reads[image] = SCORER.norm(text)
    return reads


def mcnemar(b, c):
    n = b + c
    return min(1.0, 2 * sum(comb(n, i) for i in range(min(b, c) + 1)) / 2**n) if n else 1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--s80", help="seed 80's plates (default: beside A_OUT, as judge.sh draws them)")
    args = ap.parse_args()
    s80 = args.s80 or os.path.join(os.path.dirname(os.path.abspath(args.a)), "s80")
    zero = {}
    for row in csv.DictReader(open(os.path.join(s80, "labels.csv"))):
        text = SCORER.norm(row["PLATE"])
        zero[row["file"]] = text.replace("O", "0") if row["style"].startswith("us") else text
    sets = [
        ("crops", crop_truth(os.path.join(DATA, "us-crops-dev", "groundtruth.csv")), "crops"),
        ("us-dev", photo_truth(os.path.join(DATA, "us-dev")), "us"),
        ("eu-dev", photo_truth(os.path.join(DATA, "eu-dev")), "eu"),
        ("seed 80n", crop_truth(os.path.join(s80, "groundtruth.csv")), "s80"),
        ("seed 80z", zero, "s80"),
    ]
    def line(label, a, b, only_a, only_b):
        print(f"{label:9} A {a:5}  B {b:5}  only A {only_a:3}  only B {only_b:3}"
              f"  p = {mcnemar(only_a, only_b):.2f}")

    dev = [0, 0, 0, 0]
    for label, truth, name in sets:
        ra, rb = first_reads(args.a, name), first_reads(args.b, name)
        right_a = {i for i in truth if ra.get(i) == truth[i]}
        right_b = {i for i in truth if rb.get(i) == truth[i]}
        counts = [len(right_a), len(right_b), len(right_a - right_b), len(right_b - right_a)]
        line(label, *counts)
        if not label.startswith("seed"):
            dev = [d + c for d, c in zip(dev, counts)]
    line("dev sum", *dev)

if __name__ == "__main__":
    main()
