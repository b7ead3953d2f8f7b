//! [`Planes`]: the one image type the kernels take and return.

use std::fmt;

use crate::{Error, Result};

/// `count` images ("planes") of `width x height` pixels, one `u32` per pixel,
/// row-major, stored one after another.
///
/// A packed RGBA8 pixel is `r | g << 8 | b << 16 | a << 24` (the bytes
/// `[r, g, b, a]` read as a little-endian `u32`); a luma, gradient or mask
/// pixel is a small integer in the low bits. One `u32` per pixel keeps the
/// shaders free of byte packing; it costs memory, not correctness.
#[derive(Clone, PartialEq, Eq)]
pub struct Planes {
    width: u32,
    height: u32,
    count: u32,
    data: Vec<u32>,
}

impl Planes {
    /// Wraps `data` as `count` planes of `width x height`; its length must be
    /// exactly `width * height * count`.
    /// One frame from a slice, for tests of the kernels' CPU twins.
    #[cfg(test)]
    pub(crate) fn single(width: u32, height: u32, data: &[u32]) -> Planes {
        Planes::new(width, height, 1, data.to_vec()).expect("data fits width x height")
    }

    pub fn new(width: u32, height: u32, count: u32, data: Vec<u32>) -> Result<Self> {
        let expected = (width as usize)
            .checked_mul(height as usize)
            .and_then(|n| n.checked_mul(count as usize));
        if expected != Some(data.len()) {
            return Err(Error::bad_input(format!(
                "{count} planes of {width}x{height} need {} pixels, got {}",
                expected.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            count,
            data,
        })
    }

    /// Packs RGBA8 frames (`[r, g, b, a]` bytes, row-major, frame after
    /// frame) into planes of packed pixels.
    pub fn from_rgba8(width: u32, height: u32, count: u32, bytes: &[u8]) -> Result<Self> {
        if !bytes.len().is_multiple_of(4) {
            return Err(Error::bad_input(format!(
                "RGBA8 data of {} bytes is not whole pixels",
                bytes.len()
            )));
        }
        let data = bytes
            .chunks_exact(4)
            .map(|p| pack_rgba(p[0], p[1], p[2], p[3]))
            .collect();
        Self::new(width, height, count, data)
    }

    /// Width of each plane in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of each plane in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Number of planes.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Pixels in one plane.
    pub fn plane_len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// True when there is no pixel at all.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// All pixels, plane after plane.
    pub fn data(&self) -> &[u32] {
        &self.data
    }

    /// The pixels, plane after plane, by value.
    pub fn into_data(self) -> Vec<u32> {
        self.data
    }

    /// Plane `index` (panics when out of range, like slice indexing).
    pub fn plane(&self, index: u32) -> &[u32] {
        let len = self.plane_len();
        &self.data[index as usize * len..(index as usize + 1) * len]
    }

    /// Planes `first .. first + n`, contiguous.
    pub(crate) fn planes(&self, first: u32, n: u32) -> &[u32] {
        let len = self.plane_len();
        &self.data[first as usize * len..(first + n) as usize * len]
    }

    /// The planes of every item of `items`, in order, as one stack: the
    /// batch a kernel's `dispatch` takes. All must be the same size.
    pub fn stack(items: &[&Planes]) -> Result<Planes> {
        let Some(first) = items.first() else {
            return Planes::new(0, 0, 0, Vec::new());
        };
        let (width, height) = (first.width, first.height);
        if let Some(other) = items
            .iter()
            .find(|p| (p.width, p.height) != (width, height))
        {
            return Err(Error::bad_input(format!(
                "a stack of planes must be one size: {width}x{height} and {}x{}",
                other.width, other.height
            )));
        }
        let count = items.iter().map(|p| u64::from(p.count)).sum::<u64>();
        let count = u32::try_from(count)
            .map_err(|_| Error::bad_input(format!("{count} planes are too many to stack")))?;
        let mut data = Vec::with_capacity(items.iter().map(|p| p.data.len()).sum());
        for p in items {
            data.extend_from_slice(&p.data);
        }
        Planes::new(width, height, count, data)
    }

    /// Each plane on its own, in order (the reverse of [`Planes::stack`]);
    /// a single plane is moved, not copied.
    pub fn split(self) -> Vec<Planes> {
        if self.count == 1 {
            return vec![self];
        }
        (0..self.count)
            .map(|i| Planes {
                width: self.width,
                height: self.height,
                count: 1,
                data: self.plane(i).to_vec(),
            })
            .collect()
    }
}

/// Packs one RGBA8 pixel the way [`Planes`] stores it.
pub fn pack_rgba(r: u8, g: u8, b: u8, a: u8) -> u32 {
    u32::from_le_bytes([r, g, b, a])
}

impl fmt::Debug for Planes {
    // The pixels would drown any assertion message; the shape is what helps.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Planes({}x{} x {}, {} pixels)",
            self.width,
            self.height,
            self.count,
            self.data.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_length() {
        assert!(Planes::new(3, 2, 2, vec![0; 12]).is_ok());
        assert!(Planes::new(3, 2, 2, vec![0; 11]).is_err());
        assert!(Planes::new(0, 5, 3, vec![]).unwrap().is_empty());
    }

    #[test]
    fn rgba8_bytes_pack_little_endian() {
        let p = Planes::from_rgba8(2, 1, 1, &[1, 2, 3, 4, 255, 0, 0, 255]).unwrap();
        assert_eq!(p.data(), &[0x0403_0201, 0xff00_00ff]);
        assert_eq!(pack_rgba(1, 2, 3, 4), 0x0403_0201);
        assert!(Planes::from_rgba8(1, 1, 1, &[1, 2, 3]).is_err());
    }

    #[test]
    fn planes_slice_frame_by_frame() {
        let p = Planes::new(2, 1, 3, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(p.plane(1), &[3, 4]);
        assert_eq!(p.planes(1, 2), &[3, 4, 5, 6]);
    }

    #[test]
    fn stack_and_split_are_inverse() {
        let a = Planes::new(2, 1, 1, vec![1, 2]).unwrap();
        let bc = Planes::new(2, 1, 2, vec![3, 4, 5, 6]).unwrap();
        let stack = Planes::stack(&[&a, &bc]).unwrap();
        assert_eq!(stack, Planes::new(2, 1, 3, vec![1, 2, 3, 4, 5, 6]).unwrap());
        let parts = stack.split();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], a);
        assert_eq!(parts[2], Planes::new(2, 1, 1, vec![5, 6]).unwrap());
        assert_eq!(a.clone().split(), vec![a.clone()]);
        assert!(Planes::stack(&[]).unwrap().is_empty());
        // Frames of two sizes are not one batch.
        let tall = Planes::new(1, 2, 1, vec![1, 2]).unwrap();
        assert!(Planes::stack(&[&a, &tall]).is_err());
    }
}
