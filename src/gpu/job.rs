//! The one place a kernel's work is encoded, submitted and read back, so the
//! kernels only describe their buffers and passes.
//!
//! ```text
//! slots -> pooled buffers (params, inputs uploaded) -> one bind group
//!       -> a compute pass per entry point, in order -> copy output -> readback
//!       -> submit -> map, wait -> Vec<u32>      (all inside error scopes)
//! ```

use std::sync::mpsc;

use crate::gpu::buffers::{Pooled, Role};
use crate::gpu::device::scoped;
use crate::gpu::registry::{Binding, Kernel};
use crate::gpu::{Gpu, Planes};
use crate::{Error, Result};

/// Workgroup edge in x and y; every shader declares `@workgroup_size(8, 8, 1)`
/// and runs one invocation per output pixel, `z` being the frame.
pub(crate) const WORKGROUP: u32 = 8;

/// What goes at one binding, in the shader's binding order.
pub(crate) enum Slot<'a> {
    /// The kernel's `Params` bytes (a uniform).
    Params(&'a [u8]),
    /// Pixels to upload.
    Input(&'a [u32]),
    /// A shader-written buffer of this many `u32`s, left on the GPU.
    Scratch(u64),
    /// The shader-written buffer of this many `u32`s that is read back.
    Output(u64),
}

/// The workgroup counts covering `width x height x frames` invocations.
pub(crate) fn workgroups(gpu: &Gpu, width: u32, height: u32, frames: u32) -> Result<[u32; 3]> {
    let counts = [
        width.div_ceil(WORKGROUP),
        height.div_ceil(WORKGROUP),
        frames,
    ];
    let limit = gpu.limits().max_compute_workgroups_per_dimension;
    if counts.iter().any(|&c| c > limit) {
        return Err(Error::bad_input(format!(
            "{width}x{height} x {frames} frames is past this GPU's dispatch limit \
             ({limit} workgroups of {WORKGROUP} per dimension); use the CPU kernels"
        )));
    }
    Ok(counts)
}

/// Runs `f(first, n)` over `count` frames in runs that fit one submission
/// (see [`Gpu::frames_per_submit`]) and concatenates the results.
pub(crate) fn batched(
    gpu: &Gpu,
    count: u32,
    bytes_per_frame: u64,
    mut f: impl FnMut(u32, u32) -> Result<Vec<u32>>,
) -> Result<Vec<u32>> {
    let step = gpu.frames_per_submit(bytes_per_frame)?;
    let mut out = Vec::new();
    let mut first = 0;
    while first < count {
        let n = step.min(count - first);
        let part = f(first, n)?;
        if out.is_empty() {
            out = part;
        } else {
            out.extend_from_slice(&part);
        }
        first += n;
    }
    Ok(out)
}

/// Runs a per-pixel `kernel` whose output planes have its input's size,
/// several frames per submission: binds `params(n)` for a run of `n`
/// frames, the input planes, a scratch buffer of the output's size when
/// `scratch`, and the output.
pub(crate) fn per_pixel<P: bytemuck::Pod>(
    gpu: &Gpu,
    kernel: Kernel,
    input: &Planes,
    scratch: bool,
    params: impl Fn(u32) -> P,
) -> Result<Planes> {
    let (width, height, count) = (input.width(), input.height(), input.count());
    if input.is_empty() {
        return planes(width, height, count, Vec::new());
    }
    let plane = input.plane_len();
    let data = batched(gpu, count, 4 * plane as u64, |first, n| {
        let params = params(n);
        let words = (plane * n as usize) as u64;
        let mut slots = vec![
            Slot::Params(bytemuck::bytes_of(&params)),
            Slot::Input(input.planes(first, n)),
        ];
        if scratch {
            slots.push(Slot::Scratch(words));
        }
        slots.push(Slot::Output(words));
        run(gpu, kernel, &slots, workgroups(gpu, width, height, n)?)
    })?;
    planes(width, height, count, data)
}

/// Encodes `kernel`'s entry points as one pass each over `workgroups`, binds
/// `slots` at bindings 0.., submits, waits and returns the `Output` slot.
pub(crate) fn run(
    gpu: &Gpu,
    kernel: Kernel,
    slots: &[Slot<'_>],
    workgroups: [u32; 3],
) -> Result<Vec<u32>> {
    let shader = kernel.shader();
    check_slots(kernel, shader.bindings, slots)?;
    let device = gpu.device();
    let pool = gpu.buffers();
    let what = format!("running {}", shader.name);

    // Buffers are taken and given back outside the scope so a failed job
    // drops its buffers instead of pooling them.
    let mut taken: Vec<Pooled> = Vec::with_capacity(slots.len() + 1);
    // (binding, bytes bound, words wanted)
    let mut output: Option<(usize, u64, u64)> = None;
    let result = scoped(device, &what, || {
        let mut sizes = Vec::with_capacity(slots.len());
        for (i, slot) in slots.iter().enumerate() {
            let (role, bytes) = match slot {
                Slot::Params(p) => (Role::Params, p.len() as u64),
                Slot::Input(d) => (Role::Input, 4 * d.len() as u64),
                Slot::Scratch(n) | Slot::Output(n) => (Role::Output, 4 * n),
            };
            // Zero-sized bindings are invalid; shaders never read past counts.
            let bytes = bytes.max(4);
            if let Slot::Output(n) = slot {
                output = Some((i, bytes, *n));
            }
            let pooled = pool.take(device, role, bytes);
            match slot {
                Slot::Params(p) => gpu.queue().write_buffer(pooled.buffer(), 0, p),
                Slot::Input(d) => {
                    gpu.queue()
                        .write_buffer(pooled.buffer(), 0, bytemuck::cast_slice(d))
                }
                Slot::Scratch(_) | Slot::Output(_) => {}
            }
            sizes.push(bytes);
            taken.push(pooled);
        }
        let (out_index, out_bytes, _) = output.expect("check_slots demands one Output");

        let entries: Vec<wgpu::BindGroupEntry<'_>> = taken
            .iter()
            .zip(&sizes)
            .enumerate()
            .map(|(i, (pooled, &size))| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: pooled.buffer(),
                    offset: 0,
                    size: wgpu::BufferSize::new(size),
                }),
            })
            .collect();
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&format!("alpr {} bind group", shader.name)),
            layout: gpu.bind_group_layout(kernel),
            entries: &entries,
        });

        let readback = pool.take(device, Role::Readback, out_bytes);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some(&format!("alpr {} encoder", shader.name)),
        });
        for &entry in shader.entry_points {
            let pipeline = gpu.pipeline(kernel, entry)?;
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(&format!("alpr {}::{entry} pass", shader.name)),
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let [x, y, z] = workgroups;
            pass.dispatch_workgroups(x, y, z);
        }
        encoder.copy_buffer_to_buffer(
            taken[out_index].buffer(),
            0,
            readback.buffer(),
            0,
            out_bytes,
        );
        let index = gpu.queue().submit([encoder.finish()]);

        let (tx, rx) = mpsc::channel();
        let slice = readback.buffer().slice(..out_bytes);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits below; a send cannot fail while it does.
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| Error::GpuFailed(format!("{what}: waiting: {e}")))?;
        rx.recv()
            .map_err(|_| Error::GpuFailed(format!("{what}: the map callback never ran")))?
            .map_err(|e| Error::GpuFailed(format!("{what}: mapping the result: {e}")))?;
        let words = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::GpuFailed(format!("{what}: reading the result: {e}")))?;
            // The mapping's alignment is the driver's: copy, don't cast.
            bytemuck::pod_collect_to_vec::<u8, u32>(&view)
        };
        readback.buffer().unmap();
        taken.push(readback);
        Ok(words)
    });
    if result.is_ok() {
        for pooled in taken {
            pool.give(pooled);
        }
    }
    let mut words = result?;
    if let Some((_, _, n)) = output {
        words.truncate(n as usize);
    }
    Ok(words)
}

/// Our bug if a kernel's slots disagree with its registry entry.
fn check_slots(kernel: Kernel, bindings: &[Binding], slots: &[Slot<'_>]) -> Result<()> {
    let fits = bindings.len() == slots.len()
        && bindings.iter().zip(slots).all(|(b, s)| {
            matches!(
                (b, s),
                (Binding::Params, Slot::Params(_))
                    | (Binding::Read, Slot::Input(_))
                    | (Binding::ReadWrite, Slot::Scratch(_) | Slot::Output(_))
            )
        })
        && slots
            .iter()
            .filter(|s| matches!(s, Slot::Output(_)))
            .count()
            == 1;
    if fits {
        Ok(())
    } else {
        Err(Error::GpuFailed(format!(
            "{}: the host's buffers do not match the registry (our bug)",
            kernel.name()
        )))
    }
}

/// Wraps a kernel result as planes (its length is the kernel's to get right).
pub(crate) fn planes(width: u32, height: u32, count: u32, data: Vec<u32>) -> Result<Planes> {
    Planes::new(width, height, count, data)
        .map_err(|e| Error::GpuFailed(format!("kernel returned the wrong size (our bug): {e}")))
}
