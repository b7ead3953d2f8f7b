// Adaptive threshold: 1 where a pixel beats the mean of the (2 radius + 1)^2
// box around it (clipped to the frame) by more than `offset`, else 0.
// Compared without division: value * n > sum + offset * n, n the box's pixel
// count. Inputs saturate at 4095; with radius <= 127 and |offset| <= 4095
// every term fits an i32, so the GPU and the CPU agree exactly.
// Three passes over the same bindings: box_rows (sliding horizontal window
// sums into row_sums), box_cols (sliding vertical sums of those into mask),
// then main (the comparison, in place). Sums of integers: the order of the
// additions cannot change them.
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

// Pass 1: the invocations of column 0, one per row, slide the window along
// the row: row_sums[x] = sum of the row's window around x. O(1) a pixel.
@compute @workgroup_size(8, 8, 1)
fn box_rows(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x != 0u || id.y >= params.height || id.z >= params.frames) {
        return;
    }
    let row = (id.z * params.height + id.y) * params.width;
    var sum = 0u;
    for (var x = 0u; x <= hi(0u, params.width); x++) {
        sum += value_at(row + x);
    }
    row_sums[row] = sum;
    for (var x = 1u; x < params.width; x++) {
        if (x + params.radius < params.width) {
            sum += value_at(row + x + params.radius);
        }
        if (x > params.radius) {
            sum -= value_at(row + x - params.radius - 1u);
        }
        row_sums[row + x] = sum;
    }
}

// Pass 2: the invocations of row 0, one per column, slide the window down
// the column of row sums: mask[y] = the box sum around (x, y).
@compute @workgroup_size(8, 8, 1)
fn box_cols(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.y != 0u || id.x >= params.width || id.z >= params.frames) {
        return;
    }
    let w = params.width;
    let col = id.z * params.height * w + id.x;
    var sum = 0u;
    for (var y = 0u; y <= hi(0u, params.height); y++) {
        sum += row_sums[col + y * w];
    }
    mask[col] = sum;
    for (var y = 1u; y < params.height; y++) {
        if (y + params.radius < params.height) {
            sum += row_sums[col + (y + params.radius) * w];
        }
        if (y > params.radius) {
            sum -= row_sums[col + (y - params.radius - 1u) * w];
        }
        mask[col + y * w] = sum;
    }
}

// Pass 3, one invocation per pixel: the comparison (mask holds box sums).
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height || id.z >= params.frames) {
        return;
    }
    let plane = id.z * params.height * params.width;
    let n = i32((hi(id.x, params.width) - lo(id.x) + 1u) * (hi(id.y, params.height) - lo(id.y) + 1u));
    let i = plane + id.y * params.width + id.x;
    let v = i32(value_at(i));
    mask[i] = select(0u, 1u, v * n > i32(mask[i]) + params.offset * n);
}
