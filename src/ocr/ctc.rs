//! Connectionist temporal classification (Graves et al., 2006): the
//! probability the reader's columns give a text, summed over every way of
//! spreading it over the columns (each character on one or more columns in
//! a row, blanks anywhere, a blank between two equal characters), and its
//! gradient, for training. Computed in `f64` log space by the forward and
//! backward recursions over the text with blanks between and around its
//! characters.

/// `ln(e^a + e^b)`, exact for infinite arguments.
fn log_add(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// The text with a blank before, between and after its characters.
fn extended(label: &[usize], blank: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(2 * label.len() + 1);
    out.push(blank);
    for &c in label {
        out.push(c);
        out.push(blank);
    }
    out
}

/// Whether state `s` may be entered from `s - 2` (skipping a blank): only a
/// character that differs from the one before it.
fn can_skip(ext: &[usize], s: usize, blank: usize) -> bool {
    s >= 2 && ext[s] != blank && ext[s] != ext[s - 2]
}

/// The negative log-likelihood of `label` (classes, no blanks) under
/// `log_probs` (`[columns][classes]`, each row a log-softmax), and its
/// gradient with respect to the logits that `log_probs` is the log-softmax
/// of: `softmax - occupancy`, `[columns][classes]`. `None` when the text
/// cannot fit the columns (it needs one column per character and one more
/// per pair of equal neighbours).
pub fn loss_and_grad(
    log_probs: &[f32],
    classes: usize,
    label: &[usize],
    blank: usize,
) -> Option<(f64, Vec<f32>)> {
    let t_len = log_probs.len() / classes;
    let ext = extended(label, blank);
    let s_len = ext.len();
    let lp = |t: usize, k: usize| f64::from(log_probs[t * classes + k]);
    let ninf = f64::NEG_INFINITY;
    // alpha[t][s]: paths over columns 0..=t ending in state s.
    let mut alpha = vec![ninf; t_len * s_len];
    alpha[0] = lp(0, ext[0]);
    if s_len > 1 {
        alpha[1] = lp(0, ext[1]);
    }
    for t in 1..t_len {
        for s in 0..s_len {
            let prev = &alpha[(t - 1) * s_len..t * s_len];
            let mut a = prev[s];
            if s >= 1 {
                a = log_add(a, prev[s - 1]);
            }
            if can_skip(&ext, s, blank) {
                a = log_add(a, prev[s - 2]);
            }
            alpha[t * s_len + s] = a + lp(t, ext[s]);
        }
    }
    // beta[t][s]: paths over columns t+1.. from state s at t to the end.
    let mut beta = vec![ninf; t_len * s_len];
    let last = (t_len - 1) * s_len;
    beta[last + s_len - 1] = 0.0;
    if s_len > 1 {
        beta[last + s_len - 2] = 0.0;
    }
    for t in (0..t_len - 1).rev() {
        for s in 0..s_len {
            let next = |s2: usize| beta[(t + 1) * s_len + s2] + lp(t + 1, ext[s2]);
            let mut b = next(s);
            if s + 1 < s_len {
                b = log_add(b, next(s + 1));
            }
            if s + 2 < s_len && can_skip(&ext, s + 2, blank) {
                b = log_add(b, next(s + 2));
            }
            beta[t * s_len + s] = b;
        }
    }
    let end = &alpha[last..];
    let log_p = if s_len > 1 {
        log_add(end[s_len - 1], end[s_len - 2])
    } else {
        end[0]
    };
    if !log_p.is_finite() {
        return None;
    }
    let mut grad = vec![0f32; log_probs.len()];
    for t in 0..t_len {
        let mut occupancy = vec![ninf; classes];
        for s in 0..s_len {
            let o = &mut occupancy[ext[s]];
            *o = log_add(*o, alpha[t * s_len + s] + beta[t * s_len + s]);
        }
        for k in 0..classes {
            let p = lp(t, k).exp();
            let g = (occupancy[k] - log_p).exp();
            grad[t * classes + k] = (p - g) as f32;
        }
    }
    Some((-log_p, grad))
}

/// The most probable single alignment of `label` over the columns
/// (Viterbi): for each of its characters, the columns spent on it, in
/// order. `None` when the text cannot fit the columns.
pub fn align(
    log_probs: &[f32],
    classes: usize,
    label: &[usize],
    blank: usize,
) -> Option<Vec<Vec<usize>>> {
    let t_len = log_probs.len() / classes;
    let ext = extended(label, blank);
    let s_len = ext.len();
    let lp = |t: usize, k: usize| f64::from(log_probs[t * classes + k]);
    let mut best = vec![f64::NEG_INFINITY; t_len * s_len];
    // from[t][s]: the state at t - 1 of the best path to s at t.
    let mut from = vec![0usize; t_len * s_len];
    best[0] = lp(0, ext[0]);
    if s_len > 1 {
        best[1] = lp(0, ext[1]);
    }
    for t in 1..t_len {
        for s in 0..s_len {
            let prev = |s2: usize| best[(t - 1) * s_len + s2];
            let mut choice = (prev(s), s);
            if s >= 1 && prev(s - 1) > choice.0 {
                choice = (prev(s - 1), s - 1);
            }
            if can_skip(&ext, s, blank) && prev(s - 2) > choice.0 {
                choice = (prev(s - 2), s - 2);
            }
            best[t * s_len + s] = choice.0 + lp(t, ext[s]);
            from[t * s_len + s] = choice.1;
        }
    }
    let last = (t_len - 1) * s_len;
    let mut s = s_len - 1;
    if s_len > 1 && best[last + s_len - 2] > best[last + s] {
        s = s_len - 2;
    }
    if !best[last + s].is_finite() {
        return None;
    }
    let mut columns = vec![Vec::new(); label.len()];
    for t in (0..t_len).rev() {
        if s % 2 == 1 {
            columns[s / 2].push(t);
        }
        s = from[t * s_len + s];
    }
    columns.iter_mut().for_each(|c| c.reverse());
    Some(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-softmax of every `classes`-long row.
    fn log_softmax(logits: &[f32], classes: usize) -> Vec<f32> {
        logits
            .chunks(classes)
            .flat_map(|row| {
                let m = row.iter().copied().fold(f32::MIN, f32::max);
                let z = row.iter().map(|v| (v - m).exp()).sum::<f32>().ln() + m;
                row.iter().map(move |v| v - z)
            })
            .collect()
    }

    /// The probability of `label` by listing every column sequence (tiny
    /// cases only): each sequence collapses by merging repeats and
    /// dropping blanks.
    fn brute_force(log_probs: &[f32], classes: usize, label: &[usize], blank: usize) -> f64 {
        let t_len = log_probs.len() / classes;
        let mut total = 0.0;
        for code in 0..classes.pow(t_len as u32) {
            let mut path = Vec::new();
            let mut c = code;
            for _ in 0..t_len {
                path.push(c % classes);
                c /= classes;
            }
            let mut text = Vec::new();
            let mut prev = None;
            for &k in &path {
                if k != blank && Some(k) != prev {
                    text.push(k);
                }
                prev = Some(k);
            }
            if text == label {
                total += path
                    .iter()
                    .enumerate()
                    .map(|(t, &k)| f64::from(log_probs[t * classes + k]))
                    .sum::<f64>()
                    .exp();
            }
        }
        total
    }

    fn logits(t_len: usize, classes: usize, seed: usize) -> Vec<f32> {
        (0..t_len * classes)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 250.0) - 2.0)
            .collect()
    }

    #[test]
    fn the_loss_sums_over_every_alignment() {
        // 4 classes (blank 3), 5 columns: labels with and without repeats.
        for (seed, label) in [&[0usize, 1][..], &[2, 2], &[1], &[0, 1, 0], &[]]
            .iter()
            .enumerate()
        {
            let lp = log_softmax(&logits(5, 4, seed), 4);
            let (nll, _) = loss_and_grad(&lp, 4, label, 3).unwrap();
            let want = brute_force(&lp, 4, label, 3);
            assert!(
                ((-nll).exp() - want).abs() < 1e-9 * want.max(1e-3),
                "{label:?}: {} vs {want}",
                (-nll).exp()
            );
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (t_len, classes, label) = (6, 5, [1usize, 1, 2]);
        let x = logits(t_len, classes, 9);
        let nll = |x: &[f32]| loss_and_grad(&log_softmax(x, classes), classes, &label, 4);
        let (_, grad) = nll(&x).unwrap();
        for i in [0, 3, 7, 12, 18, 29] {
            let h = 1e-2;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (nll(&up).unwrap().0 - nll(&down).unwrap().0) / (2.0 * f64::from(h));
            assert!(
                (numeric - f64::from(grad[i])).abs() < 1e-3,
                "{i}: {numeric} vs {}",
                grad[i]
            );
        }
    }

    #[test]
    fn the_alignment_gives_each_character_its_columns() {
        // Columns: A A blank B B blank, sure of each; classes A=0, B=1,
        // blank 2.
        let sure = [0usize, 0, 2, 1, 1, 2];
        let mut lp = vec![(0.01f32).ln(); sure.len() * 3];
        for (t, &k) in sure.iter().enumerate() {
            lp[t * 3 + k] = (0.98f32).ln();
        }
        assert_eq!(
            align(&lp, 3, &[0, 1], 2),
            Some(vec![vec![0, 1], vec![3, 4]])
        );
        // A repeat needs the blank between: "AB" read as "A" then "A".
        assert_eq!(align(&lp, 3, &[0, 0], 2).map(|c| c.len()), Some(2));
        assert_eq!(align(&lp[..3], 3, &[0, 0], 2), None);
    }

    #[test]
    fn a_text_too_long_for_the_columns_has_no_loss() {
        let lp = log_softmax(&logits(3, 4, 1), 4);
        // Three equal characters need five columns.
        assert!(loss_and_grad(&lp, 4, &[0, 0, 0], 3).is_none());
        assert!(loss_and_grad(&lp, 4, &[0, 1, 2], 3).is_some());
    }
}
