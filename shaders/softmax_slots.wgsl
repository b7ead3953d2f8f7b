// Softmax per character slot: logits [crop][slot][class] -> probabilities,
// each slot's classes summing to 1. One invocation per slot: x = slot,
// y = crop. The largest logit is subtracted first, so exp never overflows.
// Host: src/gpu/kernels/softmax_slots.rs, whose cpu() twin follows this loop
// for loop.

// Keep in sync with `Params` in src/gpu/kernels/softmax_slots.rs.
struct Params {
    slots: u32,
    classes: u32,
    crops: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.slots || id.y >= params.crops || id.z > 0u) {
        return;
    }
    let base = (id.y * params.slots + id.x) * params.classes;
    var m = logits[base];
    for (var c = 1u; c < params.classes; c++) {
        m = max(m, logits[base + c]);
    }
    var sum = 0.0;
    for (var c = 0u; c < params.classes; c++) {
        sum += exp(logits[base + c] - m);
    }
    for (var c = 0u; c < params.classes; c++) {
        probs[base + c] = exp(logits[base + c] - m) / sum;
    }
}
