// parlab's kernels as compute shaders. WGSL has no 64-bit integers: 64-bit values are
// vec2<u32> (x = low word, y = high word) with explicit carries.
//
// Every invocation handles `items` consecutive indices starting at base + id * items, and
// counts its loop iterations: lavapipe silently stops any invocation after 65,535 iterations in
// total, so the host sizes `items` to stay under `cap`, and an invocation that would exceed it
// stops and sets bit 0 of its flags (bit 1: a 64-bit overflow) so the host never takes a cut-off
// result for a real one.

struct Params {
    base: vec2<u32>,   // first index of this dispatch
    items: u32,        // indices per invocation
    total: u32,        // indices in this dispatch
    cap: u32,          // most loop iterations per invocation
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// 8 words per invocation: results in 0..7, flags in 7.
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

const CUT: u32 = 1u;
const OVERFLOW: u32 = 2u;

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// The full 64-bit product of two 32-bit words, from 16-bit halves.
fn mul32(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xFFFFu; let a1 = a >> 16u;
    let b0 = b & 0xFFFFu; let b1 = b >> 16u;
    let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
    let mid = p01 + p10;
    let mid_carry = select(0u, 0x10000u, mid < p01);
    let lo = p00 + (mid << 16u);
    let hi = p11 + (mid >> 16u) + mid_carry + select(0u, 1u, lo < p00);
    return vec2<u32>(lo, hi);
}

// The low 64 bits of a 64 x 64-bit product.
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let p = mul32(a.x, b.x);
    return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}

fn xorshr(z: vec2<u32>, s: u32) -> vec2<u32> {
    return z ^ vec2<u32>((z.x >> s) | (z.y << (32u - s)), z.y >> s);
}

fn index_at(k: u32) -> vec2<u32> {
    return add64(params.base, vec2<u32>(k, 0u));
}

fn first(id: u32) -> u32 { return id * params.items; }

fn count_of(id: u32) -> u32 {
    let f = first(id);
    if (f >= params.total) { return 0u; }
    return min(params.items, params.total - f);
}

@compute @workgroup_size(64)
fn count(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let n = count_of(id);
    var total: u32 = 0u;
    var flags: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { flags = CUT; break; }
        total = total + 1u;
    }
    out[id * 8u] = total;
    out[id * 8u + 7u] = flags;
}

@compute @workgroup_size(64)
fn sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let n = count_of(id);
    var acc = vec2<u32>(0u, 0u);
    var top: u32 = 0u;
    var flags: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { flags = CUT; break; }
        let next = add64(acc, index_at(first(id) + j));
        top = top + select(0u, 1u, next.y < acc.y || (next.y == acc.y && next.x < acc.x));
        acc = next;
    }
    out[id * 8u] = acc.x;
    out[id * 8u + 1u] = acc.y;
    out[id * 8u + 2u] = top;
    out[id * 8u + 7u] = flags;
}

const GOLDEN: vec2<u32> = vec2<u32>(0x7F4A7C15u, 0x9E3779B9u);
const MIX1: vec2<u32> = vec2<u32>(0x1CE4E5B9u, 0xBF58476Du);
const MIX2: vec2<u32> = vec2<u32>(0x133111EBu, 0x94D049BBu);

fn splitmix64(i: vec2<u32>) -> vec2<u32> {
    var z = mul64(add64(i, vec2<u32>(1u, 0u)), GOLDEN);
    z = mul64(xorshr(z, 30u), MIX1);
    z = mul64(xorshr(z, 27u), MIX2);
    return xorshr(z, 31u);
}

@compute @workgroup_size(64)
fn pi(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let n = count_of(id);
    var hits: u32 = 0u;
    var flags: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { flags = CUT; break; }
        let z = splitmix64(index_at(first(id) + j));
        // Inside when x^2 + y^2 < 2^64, x the high word, y the low word.
        let xx = mul32(z.y, z.y);
        let yy = mul32(z.x, z.x);
        let lo = xx.x + yy.x;
        let carry = select(0u, 1u, lo < xx.x);
        let hi = xx.y + yy.y;
        let hi2 = hi + carry;
        if (!(hi < xx.y || hi2 < hi)) { hits = hits + 1u; }
    }
    out[id * 8u] = hits;
    out[id * 8u + 7u] = flags;
}

// Indices below 2^32 only (the host refuses larger ones): trial division by odd numbers.
@compute @workgroup_size(64)
fn primes(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let n = count_of(id);
    var found: u32 = 0u;
    var spent: u32 = 0u;
    var flags: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        let v = index_at(first(id) + j).x;
        spent = spent + 1u;
        if (spent > params.cap) { flags = CUT; break; }
        var prime = v >= 2u;
        if (v >= 4u && (v & 1u) == 0u) { prime = false; }
        var d: u32 = 3u;
        loop {
            if (!prime || d > 65535u || d * d > v) { break; }
            spent = spent + 1u;
            if (spent > params.cap) { flags = CUT; break; }
            if (v % d == 0u) { prime = false; }
            d = d + 2u;
        }
        if (flags != 0u) { break; }
        if (prime) { found = found + 1u; }
    }
    out[id * 8u] = found;
    out[id * 8u + 7u] = flags;
}

@compute @workgroup_size(64)
fn collatz(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    let n = count_of(id);
    var steps_sum = vec2<u32>(0u, 0u);
    var best: u32 = 0u;
    var best_at: u32 = 0u;
    var spent: u32 = 0u;
    var flags: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        var x = index_at(first(id) + j);
        var steps: u32 = 0u;
        spent = spent + 1u;
        if (spent > params.cap) { flags = CUT; break; }
        if (x.y == 0u && x.x <= 1u) { x = vec2<u32>(1u, 0u); }
        loop {
            if (x.y == 0u && x.x == 1u) { break; }
            spent = spent + 1u;
            if (spent > params.cap) { flags = CUT; break; }
            if ((x.x & 1u) == 0u) {
                // Halve as many times as there are trailing zeros.
                var tz: u32;
                if (x.x == 0u) { tz = 32u + countTrailingZeros(x.y); } else { tz = countTrailingZeros(x.x); }
                if (tz >= 32u) {
                    x = vec2<u32>(x.y >> (tz - 32u), 0u);
                } else {
                    x = vec2<u32>((x.x >> tz) | (x.y << (32u - tz)), x.y >> tz);
                }
                steps = steps + tz;
            } else {
                // 3x + 1, refusing to leave 64 bits.
                if (x.y > 0x55555555u) { flags = OVERFLOW; break; }
                let doubled = add64(x, x);
                let tripled = add64(doubled, x);
                let next = add64(tripled, vec2<u32>(1u, 0u));
                if (next.y < x.y) { flags = OVERFLOW; break; }
                x = next;
                steps = steps + 1u;
            }
        }
        if (flags != 0u) { break; }
        steps_sum = add64(steps_sum, vec2<u32>(steps, 0u));
        if (j == 0u || steps > best) { best = steps; best_at = first(id) + j; }
    }
    out[id * 8u] = steps_sum.x;
    out[id * 8u + 1u] = steps_sum.y;
    out[id * 8u + 2u] = best;
    out[id * 8u + 3u] = best_at;
    out[id * 8u + 4u] = select(0u, 1u, n > 0u);
    out[id * 8u + 7u] = flags;
}
