// Fully connected layer: out[n][o] = sum_i in[n][i] * w[i][o] + b[o], then
// ReLU if params.relu != 0. weights: [inputs][outputs] (input-major, so the
// CPU twin walks them row by row), then the outputs biases. One invocation
// per output value: x = o, y = crop n. Terms are added in input order, the
// bias last.
// Host: src/gpu/kernels/dense.rs, whose cpu() twin adds the same terms in the
// same order.

// Keep in sync with `Params` in src/gpu/kernels/dense.rs.
struct Params {
    inputs: u32,
    outputs: u32,
    crops: u32,
    relu: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.outputs || id.y >= params.crops || id.z > 0u) {
        return;
    }
    let row = id.y * params.inputs;
    var acc = 0.0;
    for (var i = 0u; i < params.inputs; i++) {
        acc += input[row + i] * weights[i * params.outputs + id.x];
    }
    acc += weights[params.inputs * params.outputs + id.x];
    if (params.relu != 0u) {
        acc = max(acc, 0.0);
    }
    output[id.y * params.outputs + id.x] = acc;
}
