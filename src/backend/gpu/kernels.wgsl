// parlab's kernels as compute shaders. WGSL has no 64-bit integers: 64-bit values are
// vec2<u32> (x = low word, y = high word) with explicit carries, and totals are vec4<u32>
// (128 bits, least significant word first).
//
// The host prepends three constants: WG (invocations per workgroup, from the adapter's
// limits), RECORD (words of a dispatch's record) and LISTED (invocations a record can list).
//
// Every invocation handles `items` consecutive indices starting at base + id * items, and
// counts its loop iterations: lavapipe silently stops any invocation after 65,535 iterations in
// total, so the host sizes `items` to stay under `cap`, and an invocation that would exceed it
// (or whose Collatz trajectory would leave 64 bits) stops, adds nothing and lists itself in its
// dispatch's record, so that the host computes its indices on the CPU and never takes a
// cut-off result for a real one.
//
// Totals are combined on the device: each invocation's into its workgroup's (workgroup
// atomics), each workgroup's into its dispatch's record (storage atomics). A 128-bit total is
// four words added one at a time, each add that wraps its word carrying one into the next: the
// sum is exact whatever order the adds run in, as long as it stays under 2^128 (a dispatch is
// at most 2^31 indices below 2^64 each, so under 2^95).

struct Params {
    base: vec2<u32>,     // first index of this dispatch
    items: u32,          // indices per invocation
    total: u32,          // indices in this dispatch
    cap: u32,            // most loop iterations per invocation
    invocations: u32,    // invocations that have indices
    record: u32,         // this dispatch's record in `rec`
    groups: u32,         // workgroups the main pass launched (read by collatz_argmax)
}

@group(0) @binding(0) var<uniform> params: Params;
// One record of RECORD words per dispatch: total in 0..4, the longest Collatz run plus one in
// 4, the complement of its first offset in 5 (so that a max finds the least offset), the
// number of listed invocations in 6, listed invocations from 8.
@group(0) @binding(1) var<storage, read_write> rec: array<atomic<u32>>;
// collatz: each workgroup's longest run plus one and complemented offset, for the second pass.
@group(0) @binding(2) var<storage, read_write> scratch: array<u32>;

var<workgroup> wsum: array<atomic<u32>, 4>;
var<workgroup> wbest: atomic<u32>;
var<workgroup> wat: atomic<u32>;

const CUT: u32 = 1u;
const OVERFLOW: u32 = 2u;

// One invocation's result: its total, its longest Collatz run plus one (0: none) and where
// (offset in the dispatch), and whether it was cut off.
struct Local {
    v: vec4<u32>,
    best: u32,
    at: u32,
    flags: u32,
}

fn nothing() -> Local {
    return Local(vec4<u32>(0u, 0u, 0u, 0u), 0u, 0u, 0u);
}

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

// Only called for id < params.invocations, so that id * items stays under 2^31.
fn first(id: u32) -> u32 { return id * params.items; }

fn count_of(id: u32) -> u32 {
    let f = first(id);
    if (f >= params.total) { return 0u; }
    return min(params.items, params.total - f);
}

// Adds `value` at word `word` of the workgroup's total, carrying into the words above.
fn wadd(word: u32, value: u32) {
    var k = word;
    var v = value;
    loop {
        if (v == 0u || k >= 4u) { break; }
        let old = atomicAdd(&wsum[k], v);
        if (old + v >= old) { break; }
        v = 1u;
        k = k + 1u;
    }
}

// The same at word `word` of the dispatch's record.
fn radd(base: u32, word: u32, value: u32) {
    var k = word;
    var v = value;
    loop {
        if (v == 0u || k >= 4u) { break; }
        let old = atomicAdd(&rec[base + k], v);
        if (old + v >= old) { break; }
        v = 1u;
        k = k + 1u;
    }
}

// Combines every invocation's result into its workgroup's, then the workgroup's into the
// dispatch's record. Called by every invocation of the workgroup (it holds barriers); workgroup
// memory starts zeroed.
fn combine(result: Local, li: u32, g: u32, id: u32, bests: bool) {
    var r = result;
    let base = params.record * RECORD;
    if (r.flags != 0u) {
        let at = atomicAdd(&rec[base + 6u], 1u);
        if (at < LISTED) { atomicStore(&rec[base + 8u + at], id); }
        r = nothing();
    }
    wadd(0u, r.v.x);
    wadd(1u, r.v.y);
    wadd(2u, r.v.z);
    wadd(3u, r.v.w);
    if (bests) { atomicMax(&wbest, r.best); }
    workgroupBarrier();
    if (bests) {
        let best = atomicLoad(&wbest);
        if (r.best != 0u && r.best == best) { atomicMax(&wat, ~r.at); }
    }
    workgroupBarrier();
    if (li == 0u) {
        radd(base, 0u, atomicLoad(&wsum[0]));
        radd(base, 1u, atomicLoad(&wsum[1]));
        radd(base, 2u, atomicLoad(&wsum[2]));
        radd(base, 3u, atomicLoad(&wsum[3]));
        if (bests) {
            let best = atomicLoad(&wbest);
            scratch[g * 2u] = best;
            scratch[g * 2u + 1u] = atomicLoad(&wat);
            atomicMax(&rec[base + 4u], best);
        }
    }
}

fn group_of(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + nwg.x * (wid.y + nwg.y * wid.z);
}

fn count_one(id: u32) -> Local {
    var r = nothing();
    let n = count_of(id);
    var total: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { r.flags = CUT; break; }
        total = total + 1u;
    }
    r.v.x = total;
    return r;
}

fn sum_one(id: u32) -> Local {
    var r = nothing();
    let n = count_of(id);
    var acc = vec2<u32>(0u, 0u);
    var top: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { r.flags = CUT; break; }
        let next = add64(acc, index_at(first(id) + j));
        top = top + select(0u, 1u, next.y < acc.y || (next.y == acc.y && next.x < acc.x));
        acc = next;
    }
    r.v = vec4<u32>(acc.x, acc.y, top, 0u);
    return r;
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

fn pi_one(id: u32) -> Local {
    var r = nothing();
    let n = count_of(id);
    var hits: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        if (j >= params.cap) { r.flags = CUT; break; }
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
    r.v.x = hits;
    return r;
}

// Indices below 2^32 only (the host refuses larger ones): trial division by odd numbers.
fn primes_one(id: u32) -> Local {
    var r = nothing();
    let n = count_of(id);
    var found: u32 = 0u;
    var spent: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        let v = index_at(first(id) + j).x;
        spent = spent + 1u;
        if (spent > params.cap) { r.flags = CUT; break; }
        var prime = v >= 2u;
        if (v >= 4u && (v & 1u) == 0u) { prime = false; }
        var d: u32 = 3u;
        loop {
            if (!prime || d > 65535u || d * d > v) { break; }
            spent = spent + 1u;
            if (spent > params.cap) { r.flags = CUT; break; }
            if (v % d == 0u) { prime = false; }
            d = d + 2u;
        }
        if (r.flags != 0u) { break; }
        if (prime) { found = found + 1u; }
    }
    r.v.x = found;
    return r;
}

fn collatz_one(id: u32) -> Local {
    var r = nothing();
    let n = count_of(id);
    var steps_sum = vec2<u32>(0u, 0u);
    var spent: u32 = 0u;
    for (var j: u32 = 0u; j < n; j = j + 1u) {
        var x = index_at(first(id) + j);
        var steps: u32 = 0u;
        spent = spent + 1u;
        if (spent > params.cap) { r.flags = CUT; break; }
        if (x.y == 0u && x.x <= 1u) { x = vec2<u32>(1u, 0u); }
        loop {
            if (x.y == 0u && x.x == 1u) { break; }
            spent = spent + 1u;
            if (spent > params.cap) { r.flags = CUT; break; }
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
                if (x.y > 0x55555555u) { r.flags = OVERFLOW; break; }
                let doubled = add64(x, x);
                let tripled = add64(doubled, x);
                let next = add64(tripled, vec2<u32>(1u, 0u));
                if (next.y < x.y) { r.flags = OVERFLOW; break; }
                x = next;
                steps = steps + 1u;
            }
        }
        if (r.flags != 0u) { break; }
        steps_sum = add64(steps_sum, vec2<u32>(steps, 0u));
        // Steps stay under 64 x the cap, so the run plus one never wraps; on a tie the
        // earlier index stays.
        if (steps + 1u > r.best) { r.best = steps + 1u; r.at = first(id) + j; }
    }
    r.v = vec4<u32>(steps_sum.x, steps_sum.y, 0u, 0u);
    return r;
}

@compute @workgroup_size(WG)
fn count(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = group_of(wid, nwg);
    let id = g * WG + li;
    var r = nothing();
    if (id < params.invocations) { r = count_one(id); }
    combine(r, li, g, id, false);
}

@compute @workgroup_size(WG)
fn sum(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
       @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = group_of(wid, nwg);
    let id = g * WG + li;
    var r = nothing();
    if (id < params.invocations) { r = sum_one(id); }
    combine(r, li, g, id, false);
}

@compute @workgroup_size(WG)
fn pi(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
      @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = group_of(wid, nwg);
    let id = g * WG + li;
    var r = nothing();
    if (id < params.invocations) { r = pi_one(id); }
    combine(r, li, g, id, false);
}

@compute @workgroup_size(WG)
fn primes(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = group_of(wid, nwg);
    let id = g * WG + li;
    var r = nothing();
    if (id < params.invocations) { r = primes_one(id); }
    combine(r, li, g, id, false);
}

@compute @workgroup_size(WG)
fn collatz(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
    let g = group_of(wid, nwg);
    let id = g * WG + li;
    var r = nothing();
    if (id < params.invocations) { r = collatz_one(id); }
    combine(r, li, g, id, true);
}

// collatz's second pass, after the first has set the dispatch's longest run: each workgroup
// that reached it offers its first offset, and the least wins (the greatest complement).
@compute @workgroup_size(WG)
fn collatz_argmax(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
    let id = group_of(wid, nwg) * WG + li;
    if (id < params.groups) {
        let base = params.record * RECORD;
        let best = atomicLoad(&rec[base + 4u]);
        if (best != 0u && scratch[id * 2u] == best) {
            atomicMax(&rec[base + 5u], scratch[id * 2u + 1u]);
        }
    }
}
