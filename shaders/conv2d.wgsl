// 3x3 convolution, stride 1, zero padding 1 (the output is as large as the
// input), plus a bias per output channel, then ReLU if params.relu != 0.
// Tensors are f32, [crop][channel][y][x]. One invocation per output value:
// x, y the pixel, z = crop * cout + output channel.
// weights: [cout][cin][3][3], then the cout biases.
// Terms are added in the order ci, ky, kx; the bias last.
// Host: src/gpu/kernels/conv2d.rs, whose cpu() twin adds the same terms in
// the same order.

// Keep in sync with `Params` in src/gpu/kernels/conv2d.rs.
struct Params {
    width: u32,
    height: u32,
    cin: u32,
    cout: u32,
    crops: u32,
    relu: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.width || id.y >= params.height || id.z >= params.crops * params.cout) {
        return;
    }
    let crop = id.z / params.cout;
    let co = id.z % params.cout;
    let plane = params.width * params.height;
    var acc = 0.0;
    for (var ci = 0u; ci < params.cin; ci++) {
        let base = (crop * params.cin + ci) * plane;
        let wbase = (co * params.cin + ci) * 9u;
        for (var ky = 0u; ky < 3u; ky++) {
            let y = i32(id.y) + i32(ky) - 1;
            if (y < 0 || y >= i32(params.height)) {
                continue;
            }
            for (var kx = 0u; kx < 3u; kx++) {
                let x = i32(id.x) + i32(kx) - 1;
                if (x < 0 || x >= i32(params.width)) {
                    continue;
                }
                acc += weights[wbase + ky * 3u + kx] * input[base + u32(y) * params.width + u32(x)];
            }
        }
    }
    acc += weights[params.cout * params.cin * 9u + co];
    if (params.relu != 0u) {
        acc = max(acc, 0.0);
    }
    output[id.z * plane + id.y * params.width + id.x] = acc;
}
