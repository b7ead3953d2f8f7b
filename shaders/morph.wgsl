// Binary morphology on 0/1 masks (any nonzero input counts as 1; outputs are
// 0 or 1): horizontal closing, vertical closing, vertical opening. Three
// passes over the same bindings, one invocation per pixel in each:
//   close_rows: mask -> blobs. A 0 becomes 1 when the nearest 1s to its left
//     and to its right in the row both exist and have at most `gap` pixels
//     (all 0) between them.
//   close_cols: blobs -> scratch. The same down the column, with `close`.
//   open_cols: scratch -> blobs. A 1 stays only when its vertical run of 1s
//     is at least `min_run` long.
// Each search stops after gap, close or min_run pixels (at most 64, checked
// by the host), so a pixel costs O(gap) whatever the mask.
// Host: src/gpu/kernels/morph.rs, whose tests hold the run-based cpu() twin
// to this per-pixel formulation.

// Keep in sync with `Params` in src/gpu/kernels/morph.rs.
struct Params {
    width: u32,
    height: u32,
    frames: u32,
    gap: u32,
    close: u32,
    min_run: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<u32>;
@group(0) @binding(3) var<storage, read_write> blobs: array<u32>;

// Index of (x, y) in frame z.
fn at(id: vec3<u32>) -> u32 {
    return (id.z * params.height + id.y) * params.width + id.x;
}

fn outside(id: vec3<u32>) -> bool {
    return id.x >= params.width || id.y >= params.height || id.z >= params.frames;
}

// Pass 1. `left` and `right` are the distances to the nearest 1s; the 0s
// between them number left + right - 1.
@compute @workgroup_size(8, 8, 1)
fn close_rows(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let i = at(id);
    var on = mask[i] != 0u;
    if (!on) {
        var left = 0u;
        for (var d = 1u; d <= min(params.gap, id.x); d++) {
            if (mask[i - d] != 0u) {
                left = d;
                break;
            }
        }
        if (left != 0u) {
            for (var d = 1u; left + d <= params.gap + 1u && id.x + d < params.width; d++) {
                if (mask[i + d] != 0u) {
                    on = true;
                    break;
                }
            }
        }
    }
    blobs[i] = select(0u, 1u, on);
}

// Pass 2: pass 1 down the columns of its result, with `close`.
@compute @workgroup_size(8, 8, 1)
fn close_cols(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let w = params.width;
    let i = at(id);
    var on = blobs[i] != 0u;
    if (!on) {
        var up = 0u;
        for (var d = 1u; d <= min(params.close, id.y); d++) {
            if (blobs[i - d * w] != 0u) {
                up = d;
                break;
            }
        }
        if (up != 0u) {
            for (var d = 1u; up + d <= params.close + 1u && id.y + d < params.height; d++) {
                if (blobs[i + d * w] != 0u) {
                    on = true;
                    break;
                }
            }
        }
    }
    scratch[i] = select(0u, 1u, on);
}

// Pass 3: a 1 counts the 1s above and below it, stopping once the run is
// min_run long.
@compute @workgroup_size(8, 8, 1)
fn open_cols(@builtin(global_invocation_id) id: vec3<u32>) {
    if (outside(id)) {
        return;
    }
    let w = params.width;
    let i = at(id);
    var run = 0u;
    if (scratch[i] != 0u) {
        run = 1u;
        for (var d = 1u; run < params.min_run && d <= id.y; d++) {
            if (scratch[i - d * w] == 0u) {
                break;
            }
            run++;
        }
        for (var d = 1u; run < params.min_run && id.y + d < params.height; d++) {
            if (scratch[i + d * w] == 0u) {
                break;
            }
            run++;
        }
    }
    blobs[i] = select(0u, 1u, run != 0u && run >= params.min_run);
}
