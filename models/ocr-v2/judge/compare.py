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
import glob
import json
import os
import re
from math import comb

ROOT = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("ALPR_DEV_DATA", os.path.join(ROOT, "..", "..", "..", "..", "shared", "data"))


def norm(text):
    return re.sub(r"[\s\-]", "", str(text or "")).upper()


def crop_truth(csv_path):
    return {row[0]: norm(row[2]) for row in csv.reader(open(csv_path)) if row and row[0] != "file"}


def photo_truth(folder):
    truth = {}
    for path in glob.glob(os.path.join(folder, "*.txt")):
        fields = open(path).read().strip().split("\t")
        truth[os.path.basename(fields[0])] = norm(fields[5])
    return truth


def first_reads(out, name):
    """Each image's first text: a crop's read, or a photo's first plate's."""
    reads = {}
    for line in open(os.path.join(out, name + ".jsonl")):
        o = json.loads(line)
        if "plates" in o:
            text = o["plates"][0]["text"] if o["plates"] else ""
        else:
            text = o.get("text", "")
        reads[os.path.basename(o["image"])] = norm(text)
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
        text = norm(row["PLATE"])
        zero[row["file"]] = text.replace("O", "0") if row["style"].startswith("us") else text
    sets = [
        ("crops", crop_truth(os.path.join(DATA, "us-crops-dev", "groundtruth.csv")), "crops"),
        ("us-dev", photo_truth(os.path.join(DATA, "us-dev")), "us"),
        ("eu-dev", photo_truth(os.path.join(DATA, "eu-dev")), "eu"),
        ("seed 80n", crop_truth(os.path.join(s80, "groundtruth.csv")), "s80"),
        ("seed 80z", zero, "s80"),
    ]
    dev = {"a": 0, "b": 0, "only a": 0, "only b": 0}
    for label, truth, name in sets:
        ra, rb = first_reads(args.a, name), first_reads(args.b, name)
        right_a = {i for i in truth if ra.get(i) == truth[i]}
        right_b = {i for i in truth if rb.get(i) == truth[i]}
        only_a, only_b = len(right_a - right_b), len(right_b - right_a)
        print(f"{label:9} A {len(right_a):5}  B {len(right_b):5}  only A {only_a:3}  only B {only_b:3}"
              f"  p = {mcnemar(only_a, only_b):.2f}")
        if not label.startswith("seed"):
            for k, v in (("a", len(right_a)), ("b", len(right_b)), ("only a", only_a), ("only b", only_b)):
                dev[k] += v
    print(f"{'dev sum':9} A {dev['a']:5}  B {dev['b']:5}  only A {dev['only a']:3}  only B {dev['only b']:3}"
          f"  p = {mcnemar(dev['only a'], dev['only b']):.2f}")


if __name__ == "__main__":
    main()
