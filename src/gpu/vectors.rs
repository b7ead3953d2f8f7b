//! Which vector instructions the CPU twins and the CPU's pixel loops use:
//! the widest this CPU has, found at run time so that one binary runs on
//! every x86-64 CPU, and never wider than a process-wide limit that
//! `alpr bench --cpu-vectors` lowers to time, on this CPU, the paths an
//! older one takes. A limit only narrows the choice, so a path is still
//! taken only where the CPU has its instructions: what makes the `unsafe`
//! calls behind [`avx2`] and [`in_use`] sound.
//!
//! The paths give the same bits at every width except one: without
//! AVX2 and FMA the convolutions multiply, then add, where the wider paths
//! fuse the two (`kernels::conv2d`).

use std::sync::atomic::{AtomicU8, Ordering};

/// A width of vector instructions, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Vectors {
    /// No AVX2: the compiler's baseline (SSE2) only.
    #[value(name = "plain")]
    Plain = 0,
    /// AVX2 and FMA: 8 lanes.
    #[value(name = "avx2")]
    Avx2 = 1,
    /// AVX-512F as well: 16 lanes where the convolutions allow.
    #[value(name = "avx512")]
    Avx512 = 2,
}

impl Vectors {
    /// Its name in the benchmarks' headers.
    pub fn name(self) -> &'static str {
        match self {
            Vectors::Plain => "no AVX2",
            Vectors::Avx2 => "AVX2 and FMA",
            Vectors::Avx512 => "AVX-512F",
        }
    }

    fn from_u8(v: u8) -> Vectors {
        match v {
            0 => Vectors::Plain,
            1 => Vectors::Avx2,
            _ => Vectors::Avx512,
        }
    }
}

/// The limit set by [`limit`]; none until then.
static LIMIT: AtomicU8 = AtomicU8::new(Vectors::Avx512 as u8);

/// The widest vectors this CPU has (checked at run time; the standard
/// library caches the answer).
pub fn detected() -> Vectors {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            return if has!("avx512f") {
                Vectors::Avx512
            } else {
                Vectors::Avx2
            };
        }
    }
    Vectors::Plain
}

/// Uses no wider vectors than `v` from now on, in this process.
pub fn limit(v: Vectors) {
    LIMIT.store(v as u8, Ordering::Relaxed);
}

/// The vectors in use: the CPU's widest, within the [`limit`].
pub fn in_use() -> Vectors {
    detected().min(Vectors::from_u8(LIMIT.load(Ordering::Relaxed)))
}

/// Whether the 8-lane paths (AVX2 and FMA) are taken.
pub fn avx2() -> bool {
    in_use() >= Vectors::Avx2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_order_narrowest_first_and_survive_the_store() {
        // `in_use` takes the narrower of two widths by this order.
        assert!(Vectors::Plain < Vectors::Avx2 && Vectors::Avx2 < Vectors::Avx512);
        for v in [Vectors::Plain, Vectors::Avx2, Vectors::Avx512] {
            assert_eq!(Vectors::from_u8(v as u8), v);
        }
    }
}
