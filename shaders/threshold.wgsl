// Adaptive threshold: 1 where a pixel beats the mean of the (2 radius + 1)^2
// box around it (clipped to the frame) by more than `offset`, else 0.
// Compared without division: value * n > sum + offset * n, n the box's pixel
// count. Inputs saturate at 4095; with radius <= 127 and |offset| <= 4095
// every term fits an i32, so the GPU and the CPU agree exactly.
// Two passes over the same bindings: box_rows (horizontal box sums into
// row_sums), then main (vertical sums of those, and the comparison).
// Host: src/gpu/kernels/threshold.rs, whose cpu() twin follows this loop for loop.

// Keep in sync with `Params` in src/gpu/kernels/threshold.rs.
struct Params {
    width: u32,
    height: u32,
    frames: u32,
    radius: u32,
    offset: i32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> row_sums: array<u32>;
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;

const MAX_VALUE: u32 = 4095u;

fn value_at(i: u32) -> u32 {
    return min(values[i], MAX_VALUE);
}

// First box column (or row) of a window centred on c, clipped at 0.
fn lo(c: u32) -> u32 {
    return select(0u, c - params.radius, c >= params.radius);
}

// Last box column (or row) of a window centred on c, clipped at len - 1.
fn hi(c: u32, len: u32) -> u32 {
    return min(c + params.radius, len - 1u);
}

// Pass 1, one invocation per pixel: the sum of its row's window.
@compute @workgroup_size(8, 8, 1)
fn box_rows(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height || id.z >= params.frames) {
        return;
    }
    let row = (id.z * params.height + id.y) * params.width;
    var sum = 0u;
    for (var x = lo(id.x); x <= hi(id.x, params.width); x++) {
        sum += value_at(row + x);
    }
    row_sums[row + id.x] = sum;
}

// Pass 2, one invocation per pixel: the box sum and the comparison.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height || id.z >= params.frames) {
        return;
    }
    let plane = id.z * params.height * params.width;
    let y0 = lo(id.y);
    let y1 = hi(id.y, params.height);
    var sum = 0u;
    for (var y = y0; y <= y1; y++) {
        sum += row_sums[plane + y * params.width + id.x];
    }
    let n = i32((hi(id.x, params.width) - lo(id.x) + 1u) * (y1 - y0 + 1u));
    let i = plane + id.y * params.width + id.x;
    let v = i32(value_at(i));
    mask[i] = select(0u, 1u, v * n > i32(sum) + params.offset * n);
}
