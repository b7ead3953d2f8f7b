// 3x3 Sobel over luma planes: gradient magnitude |gx| + |gy| (mode 0), or the
// vertical-edge strength |gx| alone (mode 1; licence plates are rich in
// vertical strokes). Reads outside the frame clamp to the nearest edge pixel;
// input values saturate at 255 (8-bit luma), so outputs stay below 2041.
// Host: src/gpu/kernels/sobel.rs, whose cpu() twin follows this loop for loop.

// Keep in sync with `Params` in src/gpu/kernels/sobel.rs.
struct Params {
    width: u32,
    height: u32,
    frames: u32,
    mode: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> luma: array<u32>;
@group(0) @binding(2) var<storage, read_write> edges: array<u32>;

const MAX_IN: u32 = 255u;

// Clamp-to-edge read of frame `base` at (x, y), saturated at MAX_IN.
fn px(base: u32, x: i32, y: i32) -> i32 {
    let cx = u32(clamp(x, 0, i32(params.width) - 1));
    let cy = u32(clamp(y, 0, i32(params.height) - 1));
    return i32(min(luma[base + cy * params.width + cx], MAX_IN));
}

// One invocation per pixel; z is the frame.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height || id.z >= params.frames) {
        return;
    }
    let base = id.z * params.width * params.height;
    let x = i32(id.x);
    let y = i32(id.y);
    let gx = px(base, x + 1, y - 1) + 2 * px(base, x + 1, y) + px(base, x + 1, y + 1)
        - px(base, x - 1, y - 1) - 2 * px(base, x - 1, y) - px(base, x - 1, y + 1);
    var v = abs(gx);
    if (params.mode == 0u) {
        let gy = px(base, x - 1, y + 1) + 2 * px(base, x, y + 1) + px(base, x + 1, y + 1)
            - px(base, x - 1, y - 1) - 2 * px(base, x, y - 1) - px(base, x + 1, y - 1);
        v += abs(gy);
    }
    edges[base + id.y * params.width + id.x] = u32(v);
}
