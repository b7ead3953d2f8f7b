// Max pooling, odd edges dropped. With block_width 2: 2x2 blocks, stride 2,
// out[p][y][x] is the largest of in[p][2y..2y+2][2x..2x+2]; with 1: pairs of
// rows, out[p][y][x] = max(in[p][2y][x], in[p][2y+1][x]). Tensors are f32,
// planes of width x height in (out_width x out_height out). One invocation per output value: z = plane.
// Host: src/gpu/kernels/maxpool.rs, whose cpu() twin takes the same maxima in the same order.

// Keep in sync with `Params` in src/gpu/kernels/maxpool.rs.
struct Params {
    width: u32,
    height: u32,
    planes: u32,
    block_width: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let bw = params.block_width;
    let out_w = params.width / bw;
    let out_h = params.height / 2u;
    if (id.x >= out_w || id.y >= out_h || id.z >= params.planes) {
        return;
    }
    let base = id.z * params.width * params.height + 2u * id.y * params.width + bw * id.x;
    var m = max(input[base], input[base + params.width]);
    if (bw == 2u) {
        m = max(m, input[base + 1u]);
        m = max(m, input[base + params.width + 1u]);
    }
    output[(id.z * out_h + id.y) * out_w + id.x] = m;
}
