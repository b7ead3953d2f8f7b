//! Video footage -> sampled RGBA frames with their time offsets. MP4
//! demuxing with the `mp4` crate; H.264 decoding with `openh264`, built from
//! its bundled source (no system library).
//!
//! ```text
//! MP4 bytes --mp4::Mp4Reader--> H.264 track (AVCC samples, SPS/PPS)
//!   --to Annex B, SPS/PPS first--> openh264 Decoder (no flush: B-frames)
//!   --every frame at or after the next sampling instant--> (offset µs, RGBA)
//! ```
//!
//! A sample that does not decode is counted and skipped; the decoder
//! recovers at the next key frame. A file that is not an MP4 with an H.264
//! track is an error naming it.

use std::io::Cursor;

use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;

use crate::error::{Error, Result};
use crate::gpu::Planes;

/// Seconds from 1904-01-01 (MP4's epoch) to 1970-01-01.
const MP4_EPOCH_OFFSET_S: u64 = 2_082_844_800;

/// Largest frame accepted (pixels), as for photos.
const MAX_PIXELS: usize = 100_000_000;

/// A decoded video's sampled frames.
#[derive(Debug)]
pub struct Footage {
    /// Creation time from the MP4 header (µs since the Unix epoch), if set.
    pub created_us: Option<i64>,
    /// `(index of the frame in the video, offset from the start in µs, frame)`.
    pub frames: Vec<(i64, i64, Planes)>,
    /// Samples that failed to decode.
    pub bad_samples: usize,
}

fn damaged(name: &str, why: impl Into<String>) -> Error {
    Error::BadData {
        path: name.into(),
        message: why.into(),
    }
}

/// Decodes `bytes` (an MP4 named `name`) keeping about `fps` frames per
/// second (all when `fps` is at least the video's rate), in memory.
pub fn decode(name: &str, bytes: &[u8], fps: f64) -> Result<Footage> {
    let mut frames = Vec::new();
    let (created_us, bad_samples) = decode_each(name, bytes, fps, |i, t, f| {
        frames.push((i, t, f));
        Ok(())
    })?;
    Ok(Footage {
        created_us,
        frames,
        bad_samples,
    })
}

/// Like [`decode`], handing each kept frame to `on_frame(index, offset µs,
/// frame)` as it is decoded, so memory holds one frame at a time. Returns the
/// creation time and the number of samples that failed.
pub fn decode_each(
    name: &str,
    bytes: &[u8],
    fps: f64,
    mut on_frame: impl FnMut(i64, i64, Planes) -> Result<()>,
) -> Result<(Option<i64>, usize)> {
    let size = bytes.len() as u64;
    let mut mp4 = mp4::Mp4Reader::read_header(Cursor::new(bytes), size)
        .map_err(|e| damaged(name, format!("not a readable MP4: {e}")))?;
    let created = mp4.moov.mvhd.creation_time;
    let created_us =
        (created > MP4_EPOCH_OFFSET_S).then(|| ((created - MP4_EPOCH_OFFSET_S) * 1_000_000) as i64);
    let (track_id, timescale, sps, pps, samples) = {
        let track = mp4
            .tracks()
            .values()
            .find(|t| matches!(t.media_type(), Ok(mp4::MediaType::H264)))
            .ok_or_else(|| damaged(name, "no H.264 video track"))?;
        (
            track.track_id(),
            track.timescale().max(1),
            track
                .sequence_parameter_set()
                .map_err(|e| damaged(name, format!("no SPS: {e}")))?
                .to_vec(),
            track
                .picture_parameter_set()
                .map_err(|e| damaged(name, format!("no PPS: {e}")))?
                .to_vec(),
            track.sample_count(),
        )
    };
    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| damaged(name, format!("H.264 decoder: {e}")))?;
    let mut header = Vec::new();
    for ps in [&sps, &pps] {
        header.extend_from_slice(&[0, 0, 0, 1]);
        header.extend_from_slice(ps);
    }
    decoder
        .decode(&header)
        .map_err(|e| damaged(name, format!("bad SPS/PPS: {e}")))?;
    let step_us = if fps > 0.0 { (1e6 / fps) as i64 } else { 0 };
    let mut next_us = 0i64;
    let (mut last_offset_us, mut last_duration_us) = (0i64, 0i64);
    let (mut bad_samples, mut kept) = (0usize, 0usize);
    let mut index = 0i64;
    for sample_id in 1..=samples {
        let sample = match mp4.read_sample(track_id, sample_id) {
            Ok(Some(s)) => s,
            Ok(None) => break,
            Err(_) => {
                bad_samples += 1;
                continue;
            }
        };
        let offset_us = ((sample.start_time as i128 + sample.rendering_offset as i128) * 1_000_000
            / timescale as i128) as i64;
        last_offset_us = offset_us;
        last_duration_us = (sample.duration as i64 * 1_000_000) / timescale as i64;
        let Some(annexb) = avcc_to_annexb(&sample.bytes) else {
            bad_samples += 1;
            continue;
        };
        match decoder.decode(&annexb) {
            Ok(Some(yuv)) => {
                if offset_us >= next_us {
                    on_frame(index, offset_us, to_planes(name, &yuv)?)?;
                    kept += 1;
                    next_us = offset_us + step_us;
                }
                index += 1;
            }
            Ok(None) => {}
            Err(_) => bad_samples += 1,
        }
    }
    let frame_us = last_duration_us.max(1);
    let rest = decoder.flush_remaining().unwrap_or_default();
    for yuv in rest {
        let offset_us = last_offset_us + frame_us;
        if offset_us >= next_us {
            on_frame(index, offset_us, to_planes(name, &yuv)?)?;
            kept += 1;
            next_us = offset_us + step_us;
        }
        last_offset_us = offset_us;
        index += 1;
    }
    if kept == 0 {
        return Err(damaged(
            name,
            format!("no frame decoded ({bad_samples} bad samples)"),
        ));
    }
    Ok((created_us, bad_samples))
}

fn to_planes(name: &str, yuv: &openh264::decoder::DecodedYUV<'_>) -> Result<Planes> {
    let (w, h) = yuv.dimensions();
    if w == 0 || h == 0 || w * h > MAX_PIXELS {
        return Err(damaged(name, format!("frame of {w}x{h} pixels")));
    }
    let mut rgba = vec![0u8; w * h * 4];
    yuv.write_rgba8(&mut rgba);
    Planes::from_rgba8(w as u32, h as u32, 1, &rgba)
}

/// Length-prefixed NAL units (4-byte lengths) to start-code prefixed ones;
/// `None` for a malformed sample.
pub fn avcc_to_annexb(sample: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(sample.len() + 16);
    let mut i = 0;
    while i < sample.len() {
        let len = u32::from_be_bytes(sample.get(i..i + 4)?.try_into().ok()?) as usize;
        let nal = sample.get(i + 4..i + 4 + len)?;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        i += 4 + len;
    }
    Some(out)
}

/// Start-code prefixed NAL units to `(type, payload)` pairs.
pub fn split_annexb(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&n| n - 3);
        while end > s && stream[end - 1] == 0 {
            end -= 1;
        }
        out.push(&stream[s..end]);
    }
    out
}

pub mod tests_support {
    //! Making MP4 clips without ffmpeg.
    use std::io::Cursor;

    use openh264::OpenH264API;
    use openh264::encoder::{Encoder, EncoderConfig};
    use openh264::formats::{RgbSliceU8, YUVBuffer};

    use super::split_annexb;

    /// Encodes `frames` (RGB, all `w x h`) at `fps` into an H.264 Baseline MP4
    /// in memory, with no creation time: the test clips of the tests and of
    /// `alpr bench ingest`. Panics on encoder errors (test input only).
    pub fn encode_mp4(frames: &[Vec<u8>], w: usize, h: usize, fps: u32) -> Vec<u8> {
        let config = EncoderConfig::new();
        let mut enc = Encoder::with_api_config(OpenH264API::from_source(), config).unwrap();
        let mut sps = Vec::new();
        let mut pps = Vec::new();
        let mut samples = Vec::new();
        for (i, rgb) in frames.iter().enumerate() {
            let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(rgb, (w, h)));
            let stream = enc.encode(&yuv).unwrap().to_vec();
            let mut avcc = Vec::new();
            let mut key = false;
            for nal in split_annexb(&stream) {
                match nal.first().map(|b| b & 0x1f) {
                    Some(7) => sps = nal.to_vec(),
                    Some(8) => pps = nal.to_vec(),
                    Some(t) => {
                        key |= t == 5;
                        avcc.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        avcc.extend_from_slice(nal);
                    }
                    None => {}
                }
            }
            samples.push(mp4::Mp4Sample {
                start_time: i as u64 * 1000 / fps as u64,
                duration: 1000 / fps,
                rendering_offset: 0,
                is_sync: key,
                bytes: avcc.into(),
            });
        }
        let config = mp4::Mp4Config {
            major_brand: str::parse("isom").unwrap(),
            minor_version: 512,
            compatible_brands: vec![str::parse("isom").unwrap(), str::parse("avc1").unwrap()],
            timescale: 1000,
        };
        let mut w_mp4 = mp4::Mp4Writer::write_start(Cursor::new(Vec::new()), &config).unwrap();
        w_mp4
            .add_track(&mp4::TrackConfig {
                track_type: mp4::TrackType::Video,
                timescale: 1000,
                language: "und".into(),
                media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                    width: w as u16,
                    height: h as u16,
                    seq_param_set: sps,
                    pic_param_set: pps,
                }),
            })
            .unwrap();
        for s in &samples {
            w_mp4.write_sample(1, s).unwrap();
        }
        w_mp4.write_end().unwrap();
        w_mp4.into_writer().into_inner()
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn gradient(w: usize, h: usize, shift: usize) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [((x + shift) % 256) as u8, (y % 256) as u8, 128]
            })
            .collect()
    }

    #[test]
    fn an_encoded_clip_decodes_and_is_sampled() {
        let (w, h) = (160, 96);
        let frames: Vec<Vec<u8>> = (0..10).map(|i| gradient(w, h, i * 8)).collect();
        let mp4 = tests_support::encode_mp4(&frames, w, h, 10);
        let all = decode("clip.mp4", &mp4, 100.0).unwrap();
        assert_eq!(all.frames.len(), 10);
        assert_eq!(all.bad_samples, 0);
        let (_, _, f) = &all.frames[3];
        assert_eq!((f.width(), f.height()), (w as u32, h as u32));
        let two = decode("clip.mp4", &mp4, 2.0).unwrap();
        let offsets: Vec<i64> = two.frames.iter().map(|f| f.1).collect();
        assert_eq!(offsets, vec![0, 500_000]);
        assert_eq!(
            all.created_us, None,
            "the test writer sets no creation time"
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_named() {
        let (w, h) = (160, 96);
        let frames: Vec<Vec<u8>> = (0..6).map(|i| gradient(w, h, i)).collect();
        let mp4 = tests_support::encode_mp4(&frames, w, h, 10);
        let e = decode("cut.mp4", &mp4[..mp4.len() / 2], 10.0).unwrap_err();
        assert!(e.to_string().contains("cut.mp4"), "{e}");
        let e = decode("x.mp4", b"definitely not a video", 10.0).unwrap_err();
        assert!(e.to_string().contains("x.mp4"), "{e}");
    }
}
