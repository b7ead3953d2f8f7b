// Packed RGBA8 frames -> luma, box-downscaled by an integer factor.
// Host: src/gpu/kernels/luma_downscale.rs, whose cpu() twin follows this loop for loop.
//
// Pixel in: r | g << 8 | b << 16 | a << 24 (alpha ignored).
// Luma: (77 r + 150 g + 29 b + 128) >> 8 (BT.601, integer).
// Output pixel (ox, oy) is the rounded mean luma of the factor x factor box at
// (ox * factor, oy * factor), clipped to the frame (edge boxes are smaller):
// the output is ceil(width / factor) x ceil(height / factor).

// Keep in sync with `Params` in src/gpu/kernels/luma_downscale.rs.
struct Params {
    in_width: u32,
    in_height: u32,
    out_width: u32,
    out_height: u32,
    factor: u32,
    frames: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rgba: array<u32>;
@group(0) @binding(2) var<storage, read_write> luma: array<u32>;

fn luma_of(pixel: u32) -> u32 {
    let r = pixel & 0xffu;
    let g = (pixel >> 8u) & 0xffu;
    let b = (pixel >> 16u) & 0xffu;
    return (77u * r + 150u * g + 29u * b + 128u) >> 8u;
}

// One invocation per output pixel; z is the frame.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let ox = id.x;
    let oy = id.y;
    let frame = id.z;
    if (ox >= params.out_width || oy >= params.out_height || frame >= params.frames) {
        return;
    }
    let x0 = ox * params.factor;
    let y0 = oy * params.factor;
    let x1 = min(x0 + params.factor, params.in_width);
    let y1 = min(y0 + params.factor, params.in_height);
    let base = frame * params.in_width * params.in_height;
    var sum = 0u;
    for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) {
            sum += luma_of(rgba[base + y * params.in_width + x]);
        }
    }
    let n = (x1 - x0) * (y1 - y0);
    luma[(frame * params.out_height + oy) * params.out_width + ox] = (sum + n / 2u) / n;
}
