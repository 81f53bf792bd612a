"""The compiled cost model: Timeloop's counts in closed form, many mappings of one layer at once.

Plain arrays in, plain arrays out; `cost_model.evaluate_batch` wraps it. The semantics are those
of `reference.evaluate` (the literal walk of FORMAT.md's rules R1-R7); tests hold the two equal.

Closed form of R2. The iterations of the temporal loops above a level form a mixed-radix counter.
Number those loops j = 0..M-1 from the inside out (bound-1 loops dropped). A step in which loop j
advances (the loops inside it resetting) happens n_j = (b_j - 1) * prod_{k>j} b_k times and always
moves the tile by the same translation T_j. Let i0 be the innermost loop with T_i0 != 0 (the loops
inside it do not index the tensor, so T_i0 >= 0). Following the "last stride" memory through the
counter gives: every step of i0 reuses the overlap with the previous tile (delta = tile minus
overlap); a step of another loop j reuses it if T_j == T_i0 and otherwise brings the whole tile;
T_j == 0 brings nothing. Link transfers (R3) only depend on consecutive step pairs, which are of
four kinds: (start, 0), (0, 0), (j, 0) and (0, j), each with a closed-form count.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

MAX_LOOPS = 160  # 2 x 8 dims x up to 10 levels
N_AXES = 5

# Reason codes (see result.REASONS).
_OK, _BAD_FACTORS, _SPATIAL, _CAPACITY, _BAD_BYPASS, _BAD_ORDER = 0, 1, 2, 3, 4, 5


@njit(cache=True, inline="always")
def _project(t, u, coef, out):
    """Dim-space vector u (8) -> tensor t's axes (5). coef = (stride_w, stride_h, dil_w, dil_h)."""
    # dims: R0 S1 P2 Q3 C4 K5 N6 G7
    if t == 0:    # Weights[G][K][C][R][S]
        out[0] = u[7]; out[1] = u[5]; out[2] = u[4]; out[3] = u[0]; out[4] = u[1]
    elif t == 1:  # Inputs[N][G][C][W][H], W = dil_w*R + stride_w*P, H = dil_h*S + stride_h*Q
        out[0] = u[6]; out[1] = u[7]; out[2] = u[4]
        out[3] = coef[2] * u[0] + coef[0] * u[2]
        out[4] = coef[3] * u[1] + coef[1] * u[3]
    else:         # Outputs[N][G][K][Q][P]
        out[0] = u[6]; out[1] = u[7]; out[2] = u[5]; out[3] = u[3]; out[4] = u[2]


@njit(cache=True, inline="always")
def _box(t, e, coef, out):
    """Bounding box extents (5 axes) of tensor t for dim extents e (8); returns its size in words."""
    if t == 0:
        out[0] = e[7]; out[1] = e[5]; out[2] = e[4]; out[3] = e[0]; out[4] = e[1]
    elif t == 1:
        out[0] = e[6]; out[1] = e[7]; out[2] = e[4]
        out[3] = 1 + coef[2] * (e[0] - 1) + coef[0] * (e[2] - 1)
        out[4] = 1 + coef[3] * (e[1] - 1) + coef[1] * (e[3] - 1)
    else:
        out[0] = e[6]; out[1] = e[7]; out[2] = e[5]; out[3] = e[3]; out[4] = e[2]
    return out[0] * out[1] * out[2] * out[3] * out[4]


@njit(cache=True, inline="always")
def _distinct_pairs(m, n, a, b):
    """How many distinct values a*r + b*p take for 0 <= r < m, 0 <= p < n (a, b >= 1)."""
    g = math.gcd(a, b)
    a1 = a // g
    b1 = b // g
    return m * n - max(0, m - b1) * max(0, n - a1)


@njit(cache=True, inline="always")
def _distinct_offsets(t, sp_dim, sp_bound, sp_step, n_sp, coef):
    """Distinct child offsets of tensor t under one fan-out (multicast groups / reduction groups)."""
    d = 1
    bR = bS = bP = bQ = 1
    sR = sS = sP = sQ = 0
    for i in range(n_sp):
        dim = sp_dim[i]
        b = sp_bound[i]
        if dim == 0:
            bR = b; sR = sp_step[i]
        elif dim == 1:
            bS = b; sS = sp_step[i]
        elif dim == 2:
            bP = b; sP = sp_step[i]
        elif dim == 3:
            bQ = b; sQ = sp_step[i]
        elif dim == 4:
            if t != 2:
                d *= b                  # C: Weights, Inputs
        elif dim == 5:
            if t != 1:
                d *= b                  # K: Weights, Outputs
        elif dim == 6:
            if t != 0:
                d *= b                  # N: Inputs, Outputs
        else:
            d *= b                      # G: all
    if t == 0:
        return d * bR * bS
    if t == 2:
        return d * bP * bQ
    # Inputs: width axis mixes R (dil_w) and P (stride_w), height axis S (dil_h) and Q (stride_h).
    if bR > 1 and bP > 1:
        d *= _distinct_pairs(bR, bP, coef[2] * sR, coef[0] * sP)
    else:
        d *= bR * bP
    if bS > 1 and bQ > 1:
        d *= _distinct_pairs(bS, bQ, coef[3] * sS, coef[1] * sQ)
    else:
        d *= bS * bQ
    return d


@njit(cache=True)
def _link_step(offs, nbr, n_nbr, n_ch, vstar, mark, stamp):
    """Children served over a link for offset difference vstar, and distinct offsets among the rest.

    offs[k, N_AXES] is child k's offset group (equal offsets, equal group); mark[g] == stamp flags a
    group already counted in this call.
    """
    served = 0
    distinct = 0
    for k in range(n_ch):
        ok = False
        for q in range(n_nbr[k]):
            j = nbr[k, q]
            same = True
            for a in range(N_AXES):
                if offs[j, a] - offs[k, a] != vstar[a]:
                    same = False
                    break
            if same:
                ok = True
                break
        if ok:
            served += 1
        else:
            g = offs[k, N_AXES]
            if mark[g] != stamp:
                mark[g] = stamp
                distinct += 1
    return served, distinct


@njit(cache=True)
def _children(t, sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, fan_y, coef, offs, nbr, n_nbr, u, pr, maxoff):
    """Fill offsets (5 axes + a unique key) and grid neighbours of the children under one fan-out (R3).

    Children sit on a grid of width max(fan-out X, product of X loops); child k (outermost loop most
    significant, Y loops above X loops) sits at (k mod width, k div width). Returns the child count.
    """
    n_ch = 1
    px = 1
    py = 1
    for i in range(n_sp):
        n_ch *= sp_bound[i]
        if sp_kind[i] == 2:
            px *= sp_bound[i]
        else:
            py *= sp_bound[i]
    maxoff[:] = 0
    for k in range(n_ch):
        u[:] = 0
        rem = k
        for i in range(n_sp - 1, -1, -1):  # innermost loop least significant
            idx = rem % sp_bound[i]
            rem //= sp_bound[i]
            u[sp_dim[i]] += idx * sp_step[i]
        _project(t, u, coef, pr)
        for a in range(N_AXES):
            offs[k, a] = pr[a]
            if pr[a] > maxoff[a]:
                maxoff[a] = pr[a]
    for k in range(n_ch):
        key = 0
        mult = 1
        for a in range(N_AXES):
            key += offs[k, a] * mult
            mult *= maxoff[a] + 1
        offs[k, N_AXES] = key
    # Replace keys by dense group ids 0..n_groups-1 (children with equal offsets share one).
    order = np.argsort(offs[:n_ch, N_AXES])
    g = -1
    prev = -1
    for r in range(n_ch):
        k = order[r]
        if r == 0 or offs[k, N_AXES] != prev:
            g += 1
            prev = offs[k, N_AXES]
        offs[k, N_AXES] = g
    width = max(fan_x, px)
    height = max(fan_y, py)
    for k in range(n_ch):
        x = k % width
        y = k // width
        n_nbr[k] = 0
        for q in range(4):
            nx = x + (-1 if q == 0 else (1 if q == 1 else 0))
            ny = y + (-1 if q == 2 else (1 if q == 3 else 0))
            if 0 <= nx < width and 0 <= ny < height:
                j = ny * width + nx
                if j < n_ch:
                    nbr[k, n_nbr[k]] = j
                    n_nbr[k] += 1
    return n_ch


@njit(cache=True, inline="always")
def _axis_spatial_steps(t, sp_dim, sp_bound, sp_step, n_sp, ax, co, s1, m1, s2, m2):
    """Per axis of t: the (step, max digit) of the up to two spatial loops that move along it."""
    s1[:] = 0
    m1[:] = 0
    s2[:] = 0
    m2[:] = 0
    for i in range(n_sp):
        a = ax[t, sp_dim[i]]
        if a < 0:
            continue
        if s1[a] == 0:
            s1[a] = co[t, sp_dim[i]] * sp_step[i]
            m1[a] = sp_bound[i] - 1
        else:
            s2[a] = co[t, sp_dim[i]] * sp_step[i]
            m2[a] = sp_bound[i] - 1


@njit(cache=True, inline="always")
def _bounded_solution(v, a, ma, b, mb):
    """Are there integers x, y with x*a + y*b == v, |x| <= ma, |y| <= mb? (a, b >= 1; extended gcd)"""
    # a*x0 + b*y0 = g
    old_r, r = a, b
    old_s, s_ = 1, 0
    while r != 0:
        q = old_r // r
        old_r, r = r, old_r - q * r
        old_s, s_ = s_, old_s - q * s_
    g = old_r
    if v % g != 0:
        return False
    x0 = old_s * (v // g)
    y0 = (v - a * x0) // b
    da = b // g                       # x = x0 + k*da, y = y0 - k*db
    db = a // g
    k_lo = max(-((ma + x0) // da), -((mb - y0) // db))          # ceil((-ma - x0)/da), ceil((y0 - mb)/db)
    k_hi = min((ma - x0) // da, (mb + y0) // db)
    return k_lo <= k_hi


@njit(cache=True, inline="always")
def _lattice_ok(vstar, s1, m1, s2, m2):
    """Can vstar be the offset difference of two children? (necessary for a link)

    A child's offset is sum_i digit_i * step_i (projected), so a difference is sum_i c_i * step_i with
    |c_i| <= bound_i - 1. Each axis gets at most two spatial dims (width: R and P; height: S and Q).
    """
    for a in range(N_AXES):
        if vstar[a] != 0 and s1[a] == 0:
            return False
    for a in range(N_AXES):
        v = abs(vstar[a])
        if v == 0:
            continue
        if s2[a] == 0:
            if v % s1[a] != 0 or v // s1[a] > m1[a]:
                return False
            continue
        if not _bounded_solution(v, s1[a], m1[a], s2[a], m2[a]):
            return False
    return True


MAX_NEIGHBOUR_DIFFS = 16 + 256


@njit(cache=True)
def _neighbour_diffs(t, sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, coef, u, pr, digits, nd):
    """The offset differences grid neighbours (linear indices k +- 1 or k +- width, R3) can have, up to
    sign, into nd; returns their count, or -1 when there are too many spatial loops to list them.

    k + 1 changes the mixed-radix digits by a carry: digit i up one, the digits inside it reset.
    k + width adds width's digits with some pattern of carries. Either way the offset difference is one
    of a few vectors, far fewer than the children: a necessary condition before enumerating them.
    """
    if n_sp > 8:
        return -1
    n_ch = 1
    px = 1
    for i in range(n_sp):
        n_ch *= sp_bound[i]
        if sp_kind[i] == 2:
            px *= sp_bound[i]
    count = 0
    for i in range(n_sp):                     # k + 1, carry at digit i (sp arrays: outermost first)
        u[:] = 0
        u[sp_dim[i]] += sp_step[i]
        for i2 in range(i + 1, n_sp):
            u[sp_dim[i2]] -= (sp_bound[i2] - 1) * sp_step[i2]
        _project(t, u, coef, pr)
        nd[count, :] = pr[:N_AXES]
        count += 1
    width = max(fan_x, px)
    if width >= n_ch:
        return count
    rem = width
    for i in range(n_sp - 1, -1, -1):         # width's digits, innermost least significant
        digits[i] = rem % sp_bound[i]
        rem //= sp_bound[i]
    for mask in range(1 << n_sp):             # carry out of each digit
        if mask & 1:                          # nothing carries out of the outermost digit
            continue
        u[:] = 0
        feasible = True
        for i in range(n_sp):
            cout = (mask >> i) & 1
            cin = (mask >> (i + 1)) & 1 if i + 1 < n_sp else 0
            s = digits[i] + cin
            if (cout == 1 and s < 1) or (cout == 0 and s > sp_bound[i] - 1):
                feasible = False
                break
            u[sp_dim[i]] += (s - sp_bound[i] * cout) * sp_step[i]
        if feasible:
            _project(t, u, coef, pr)
            nd[count, :] = pr[:N_AXES]
            count += 1
    return count


@njit(cache=True, inline="always")
def _is_neighbour_diff(vstar, nd, n_nd):
    """Is vstar (or -vstar) among the first n_nd rows of nd? (n_nd < 0: unknown, so maybe)"""
    if n_nd < 0:
        return True
    for r in range(n_nd):
        plus = True
        minus = True
        for a in range(N_AXES):
            if nd[r, a] != vstar[a]:
                plus = False
            if nd[r, a] != -vstar[a]:
                minus = False
        if plus or minus:
            return True
    return False


@njit(cache=True, inline="always")
def _link_saving(t, vstar, size, cnt, D, sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, fan_y, coef, ax, co,
                 ws_small, offs, nbr, n_nbr, marks, n_ch, nd, nd_count):
    """(reads saved, link transfers, child count) of `cnt` steps whose deltas of `size` words can come
    from a grid neighbour at offset difference vstar; enumerates the children on first need."""
    if cnt == 0 or not _lattice_ok(vstar, ws_small[9], ws_small[10], ws_small[11], ws_small[12]):
        return 0.0, 0.0, n_ch
    if nd_count[0] == -2:             # list the neighbour differences once per (level, tensor)
        nd_count[0] = _neighbour_diffs(t, sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, coef,
                                       ws_small[1], ws_small[8], ws_small[5], nd)
    if not _is_neighbour_diff(vstar, nd, nd_count[0]):
        return 0.0, 0.0, n_ch
    if n_ch == 0:
        n_ch = _children(t, sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, fan_y, coef,
                         offs, nbr, n_nbr, ws_small[1], ws_small[8], ws_small[4])
    stamp = marks[-1] + 1          # mark array's last slot counts the calls
    marks[-1] = stamp
    served, distinct = _link_step(offs, nbr, n_nbr, n_ch, vstar, marks, stamp)
    if served > 0 and distinct < D:
        return (D - distinct) * size * cnt, served * size * cnt, n_ch
    return 0.0, 0.0, n_ch


@njit(cache=True, inline="always")
def _links(t, tdim, tb, ts, outer_prod, M, E, tile, dsz, is_mac, ax, co,
           sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan_x, fan_y, coef, D,
           ws_small, offs, nbr, n_nbr, marks, nd, nd_count):
    """Parent reads saved and link transfers (R3) over the walk of one (level, tensor).

    Consecutive steps pair up as (first tile, 0), (0, 0), (j, 0) and (0, j), loop 0 being the
    innermost loop above the level, with closed-form counts. A pair can use a link only if both deltas
    have the same shape; then the neighbour must sit at vstar = the step's translation (plus the shift
    between the two shapes' corners, zero whenever the shapes match). Working through the kinds, every
    matching pair has vstar = T_0, except (0, j) when loop 0 brings a whole tile: then vstar = T_j.
    The MAC reads one fresh operand per step, so all its deltas are single points.
    """
    nd_count[0] = -2                  # neighbour differences not listed yet
    T0 = ws_small[2]
    Tj = ws_small[3]
    reset = ws_small[0]
    _axis_spatial_steps(t, sp_dim, sp_bound, sp_step, n_sp, ax, co, ws_small[9], ws_small[10], ws_small[11],
                        ws_small[12])
    reset[:] = 0
    T0[:] = 0
    j0 = M - 1                       # loop 0, outermost-first index
    d0 = tdim[j0]
    a0 = ax[t, d0]
    if a0 >= 0:
        T0[a0] = co[t, d0] * ts[j0]
        reset[a0] = co[t, d0] * (tb[j0] - 1) * ts[j0]
    moves0 = a0 >= 0
    b0 = tb[j0]
    total = outer_prod[M]
    # Does loop 0's own delta cover the whole tile (no overlap with the previous tile)?
    whole0 = is_mac or (moves0 and T0[a0] >= E[a0])
    if not whole0 and not _lattice_ok(T0, ws_small[9], ws_small[10], ws_small[11], ws_small[12]):
        return 0.0, 0.0               # every matching pair would need vstar = T0: no link anywhere
    cnt0 = 0.0                       # steps that pair with vstar = T0
    if moves0:
        if whole0:
            cnt0 += 1.0              # (first tile, 0)
        if b0 >= 3:
            cnt0 += (b0 - 2) * (total / b0)
    saved = 0.0
    links = 0.0
    n_ch = 0
    size0 = 1.0 if is_mac else float(dsz)
    for j in range(M - 2, -1, -1):   # loops outside loop 0, inside out
        d = tdim[j]
        a = ax[t, d]
        for x in range(N_AXES):
            Tj[x] = -reset[x]
        if a >= 0:
            Tj[a] += co[t, d] * ts[j]
            reset[a] += co[t, d] * (tb[j] - 1) * ts[j]
        nz = False
        same = moves0
        for x in range(N_AXES):
            if Tj[x] != 0:
                nz = True
            if Tj[x] != T0[x]:
                same = False
        nj = (tb[j] - 1) * outer_prod[j]
        if is_mac:
            if moves0:
                cnt0 += nj           # (j, 0)
            if nz:                   # (0, j)
                s_, l_, n_ch = _link_saving(t, Tj, 1.0, nj, D, sp_dim, sp_bound, sp_step, sp_kind, n_sp,
                                            fan_x, fan_y, coef, ax, co, ws_small, offs, nbr, n_nbr, marks, n_ch, nd, nd_count)
                saved += s_
                links += l_
            continue
        if not nz or not moves0:
            continue
        if same:
            cnt0 += 2 * nj           # (j, 0) and (0, j) both pair two overlap deltas of T0
        elif whole0:
            cnt0 += nj               # (j, 0): whole tile then whole tile
            s_, l_, n_ch = _link_saving(t, Tj, float(tile), nj, D, sp_dim, sp_bound, sp_step, sp_kind, n_sp,
                                        fan_x, fan_y, coef, ax, co, ws_small, offs, nbr, n_nbr, marks, n_ch, nd, nd_count)
            saved += s_
            links += l_
    if moves0:
        s_, l_, n_ch = _link_saving(t, T0, size0, cnt0, D, sp_dim, sp_bound, sp_step, sp_kind, n_sp,
                                    fan_x, fan_y, coef, ax, co, ws_small, offs, nbr, n_nbr, marks, n_ch, nd, nd_count)
        saved += s_
        links += l_
    return saved, links


def make_workspace(n_levels, max_children):
    """Scratch arrays for one thread (allocated once per chunk of mappings, not per mapping)."""
    L = n_levels
    i64 = np.int64
    return (np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64),   # 0-2 loop level/kind/dim
            np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(L + 1, i64),        # 3-5 bound, step, start
            np.empty((L + 1, 8), i64), np.empty(8, i64), np.empty((L, 3), i64),              # 6-8 ext, run, tiles
            np.empty(L + 1, i64), np.empty((L + 1, 3)), np.empty((L, 3)), np.empty((L, 3)),  # 9-12 used, F, acc, mcw
            np.empty((L + 1, 3)), np.empty(16, i64), np.empty(16, i64), np.empty(16, i64),   # 13-16 peer, sp dim/b/step
            np.empty(16, i64), np.empty(N_AXES, i64), np.empty(L), np.empty(8, i64),         # 17-20 sp kind, E, part, cover
            np.empty((13, 16), i64),                                                         # 21 small vectors
            np.empty((max_children, N_AXES + 1), i64), np.empty((max_children, 4), i64),     # 22-23 child offs, nbrs
            np.empty(max_children, i64), np.zeros(max_children + 1, i64),                    # 24-25 n_nbr, marks
            np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64),   # 26-28 temporal dim/b/step
            np.empty(MAX_LOOPS + 1), np.empty(MAX_LOOPS, i64),                               # 29-30 outer_prod, level
            np.empty((MAX_NEIGHBOUR_DIFFS, N_AXES), i64), np.empty(1, i64))                  # 31-32 nbr diffs, count


_make_workspace_jit = njit(cache=True)(make_workspace)


@njit(cache=True)
def _eval_one(bounds, coef, ax, co, n_levels, cap, tcap, block, bw, energy, fan, acc_keep, mac_energy, num_macs,
              tf, order, sx, sy, sorder, keep,
              reads, fills, updates, out_scalars, ws):
    """Evaluate one mapping; writes totals into reads/fills/updates [L,3] and
    out_scalars = (reason, cycles, energy_pj, utilization, compute_cycles). Returns the reason code."""
    L = n_levels
    # ---- shape checks -------------------------------------------------------------------------
    for l in range(L):
        seen_t = 0
        seen_s = 0
        for q in range(8):
            if tf[l, q] < 1 or sx[l, q] < 1 or sy[l, q] < 1:
                out_scalars[0] = _BAD_FACTORS
                return _BAD_FACTORS
            if order[l, q] < 0 or order[l, q] > 7 or sorder[l, q] < 0 or sorder[l, q] > 7:
                out_scalars[0] = _BAD_ORDER
                return _BAD_ORDER
            seen_t |= 1 << order[l, q]
            seen_s |= 1 << sorder[l, q]
        if seen_t != 255 or seen_s != 255:
            out_scalars[0] = _BAD_ORDER
            return _BAD_ORDER
    for d in range(8):
        p = 1
        for l in range(L):
            p *= tf[l, d] * sx[l, d] * sy[l, d]
        if p != bounds[d]:
            out_scalars[0] = _BAD_FACTORS
            return _BAD_FACTORS
    for t in range(3):
        if keep[0, t] == 0:
            out_scalars[0] = _BAD_BYPASS
            return _BAD_BYPASS
    for l in range(L - 1, -1, -1):
        px = 1
        py = 1
        for d in range(8):
            px *= sx[l, d]
            py *= sy[l, d]
        if px > fan[l, 0] or py > fan[l, 1]:
            out_scalars[0] = _SPATIAL
            return _SPATIAL
    # ---- loop nest (R1), outermost first ------------------------------------------------------
    lv = ws[0]
    kd = ws[1]
    dm = ws[2]
    bd = ws[3]
    st = ws[4]
    start = ws[5]
    nl = 0
    for l in range(L):
        start[l] = nl
        for q in range(8):
            d = order[l, q]
            if tf[l, d] > 1:
                lv[nl] = l; kd[nl] = 0; dm[nl] = d; bd[nl] = tf[l, d]; nl += 1
        for q in range(8):
            d = sorder[l, q]
            if sy[l, d] > 1:
                lv[nl] = l; kd[nl] = 1; dm[nl] = d; bd[nl] = sy[l, d]; nl += 1
        for q in range(8):
            d = sorder[l, q]
            if sx[l, d] > 1:
                lv[nl] = l; kd[nl] = 2; dm[nl] = d; bd[nl] = sx[l, d]; nl += 1
    start[L] = nl
    # steps, and dim extents of each level's tile (loops at or below the level's first loop)
    ext = ws[6]
    run = ws[7]
    run[:] = 1
    l_cur = L
    for i in range(nl - 1, -1, -1):
        while l_cur > lv[i]:
            ext[l_cur, :] = run
            l_cur -= 1
        st[i] = run[dm[i]]
        run[dm[i]] *= bd[i]
    while l_cur >= 0:
        ext[l_cur, :] = run
        l_cur -= 1
    # ---- tiles and capacity --------------------------------------------------------------------
    E = ws[18]
    tiles = ws[8]
    for l in range(L):
        for t in range(3):
            tiles[l, t] = _box(t, ext[l], coef, E)
    for l in range(L - 1, -1, -1):
        used_words = 0
        for t in range(3):
            if keep[l, t] and acc_keep[l, t]:
                used_words += tiles[l, t]
                if tcap[l, t] >= 0 and tiles[l, t] > tcap[l, t]:
                    out_scalars[0] = _CAPACITY
                    return _CAPACITY
        if cap[l] >= 0 and used_words > cap[l]:
            out_scalars[0] = _CAPACITY
            return _CAPACITY
    # ---- counts as if every level kept every tensor (R2-R4, R6) ------------------------------
    used = ws[9]
    used[0] = 1
    for l in range(L):
        used[l + 1] = used[l]
        for d in range(8):
            used[l + 1] *= sx[l, d] * sy[l, d]
    compute_cycles = 1
    for l in range(L):
        for d in range(8):
            compute_cycles *= tf[l, d]
    fstream = ws[10]
    access = ws[11]
    mcw = ws[12]
    peer = ws[13]
    peer[:] = 0.0
    sp_dim = ws[14]
    sp_bound = ws[15]
    sp_step = ws[16]
    sp_kind = ws[17]
    # The temporal loops, outermost first; the loops above level lvl are a prefix of them.
    tdim = ws[26]
    tb = ws[27]
    ts = ws[28]
    outer_prod = ws[29]
    tlev = ws[30]
    NT = 0
    for i in range(nl):
        if kd[i] == 0:
            tdim[NT] = dm[i]
            tb[NT] = bd[i]
            ts[NT] = st[i]
            tlev[NT] = lv[i]
            NT += 1
    outer_prod[0] = 1.0
    for j in range(NT):
        outer_prod[j + 1] = outer_prod[j] * tb[j]
    M = 0
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        while M < NT and tlev[M] < lvl:
            M += 1
        total = outer_prod[M]
        n_sp = 0
        n_ch = 1
        for i in range(start[p], start[p + 1]):
            if kd[i] != 0:
                sp_dim[n_sp] = dm[i]; sp_bound[n_sp] = bd[i]; sp_step[n_sp] = st[i]; sp_kind[n_sp] = kd[i]
                n_ch *= bd[i]
                n_sp += 1
        for t in range(3):
            if is_mac:
                E[:] = 1
                tile = 1
            else:
                tile = _box(t, ext[lvl], coef, E)
            # i0: the innermost loop above lvl that indexes t (its translation is one axis step).
            i0 = -1
            for j in range(M - 1, -1, -1):
                if ax[t, tdim[j]] >= 0:
                    i0 = j
                    break
            dsz = 0
            if is_mac:
                F = total
            elif i0 < 0:
                F = float(tile)
            else:
                a = ax[t, tdim[i0]]
                step0 = co[t, tdim[i0]] * ts[i0]
                r = E[a] - step0
                dsz = tile - (tile // E[a]) * (r if r > 0 else 0)
                F = tile + (tb[i0] - 1) * outer_prod[i0] * dsz + (outer_prod[i0] - 1) * tile
                # Loops outside i0 bring the whole tile unless their translation is 0 or T_i0; that
                # needs every reset so far on i0's axis, so the scan stops at the first other axis.
                reset_a = co[t, tdim[i0]] * (tb[i0] - 1) * ts[i0]
                for j in range(i0 - 1, -1, -1):
                    aj = ax[t, tdim[j]]
                    if aj < 0:
                        continue
                    if aj != a:
                        break
                    cj = co[t, tdim[j]]
                    tj = cj * ts[j] - reset_a
                    if tj == 0:
                        F -= (tb[j] - 1) * outer_prod[j] * tile
                    elif tj == step0:
                        F -= (tb[j] - 1) * outer_prod[j] * (tile - dsz)
                    reset_a += cj * (tb[j] - 1) * ts[j]
            fstream[lvl, t] = F
            D = 1
            if n_sp > 0:
                D = _distinct_offsets(t, sp_dim, sp_bound, sp_step, n_sp, coef)
            acc_p = D * F
            # R3 links: only when the loop right above lvl moves t (else consecutive deltas are empty).
            # They are analysed as if lvl kept t (R5): when it does not, the parent's reads are replaced
            # by the fold below, whose ratio is these link-reduced reads over the multicast-weighted
            # reads of the children not served by a link (Timeloop's MaskTiles scales those stats).
            lk = 0.0
            if (n_ch > 1 and M > 0 and (is_mac or i0 == M - 1)):
                saved, lk = _links(t, tdim, tb, ts, outer_prod, M, E, tile, dsz, is_mac, ax, co,
                                   sp_dim, sp_bound, sp_step, sp_kind, n_sp, fan[p, 0], fan[p, 1], coef, D,
                                   ws[21], ws[22], ws[23], ws[24], ws[25], ws[31], ws[32])
                acc_p -= saved
                peer[lvl, t] = lk / n_ch
            access[p, t] = acc_p
            mcw[p, t] = n_ch * F - lk
    # ---- bypass (R5) and outputs' partition sizes (R6) ---------------------------------------
    part = ws[19]
    part[0] = tiles[0, 2]
    Eo = E
    cover_e = ws[20]
    for l in range(1, L):
        child = _box(2, ext[l], coef, Eo)
        has_sp = start[l] > start[l - 1] and kd[start[l] - 1] != 0
        if has_sp:
            cover_e[:] = ext[l]
            for i in range(start[l - 1], start[l]):
                if kd[i] != 0:
                    cover_e[dm[i]] *= bd[i]
            cover = _box(2, cover_e, coef, Eo)
        else:
            cover = child
        part[l] = math.floor(part[l - 1] * child / cover)
    for t in range(3):
        for lvl in range(L - 1, 0, -1):
            if keep[lvl, t] and acc_keep[lvl, t]:
                continue
            p = lvl - 1
            ratio = access[p, t] / mcw[p, t] if mcw[p, t] > 0 else 0.0
            access[p, t] = access[lvl, t] * (used[p + 1] // used[p]) * ratio
    # ---- per-instance counts, energy (item 6) and cycles (R7) --------------------------------
    total_energy = 0.0
    cycles = 0
    for l in range(L):
        r_rate = 0.0
        w_rate = 0.0
        blk = block[l]
        for t in range(3):
            if not (keep[l, t] and acc_keep[l, t]):
                reads[l, t] = 0.0
                fills[l, t] = 0.0
                updates[l, t] = 0.0
                continue
            if t == 2:
                u_ = access[l, t]
                r_ = access[l, t] + peer[l, t] - part[l]
                f_ = 0.0 if l == 0 else fstream[l, t] - part[l]
            else:
                u_ = 0.0
                r_ = access[l, t] + peer[l, t]
                f_ = 0.0 if l == 0 else fstream[l, t]
            total_energy += used[l] * (math.ceil(r_ / blk) * energy[l, 0] + math.ceil(f_ / blk) * energy[l, 1]
                                       + math.ceil(u_ / blk) * energy[l, 2])
            r_rate += r_ / compute_cycles
            w_rate += (f_ + u_) / compute_cycles
            reads[l, t] = r_ * used[l]
            fills[l, t] = f_ * used[l]
            updates[l, t] = u_ * used[l]
        slow = 1.0
        if bw[l, 0] >= 0 and bw[l, 0] < r_rate:
            slow = min(slow, bw[l, 0] / r_rate)
        if bw[l, 1] >= 0 and bw[l, 1] < w_rate:
            slow = min(slow, bw[l, 1] / w_rate)
        if bw[l, 2] >= 0 and bw[l, 2] < r_rate + w_rate:
            slow = min(slow, bw[l, 2] / (r_rate + w_rate))
        lc = math.ceil(compute_cycles / slow)
        if lc > cycles:
            cycles = lc
    macs = 1
    for d in range(8):
        macs *= bounds[d]
    total_energy += macs * mac_energy
    out_scalars[0] = _OK
    out_scalars[1] = cycles
    out_scalars[2] = total_energy
    out_scalars[3] = macs / (num_macs * cycles)
    out_scalars[4] = compute_cycles
    return _OK


@njit(cache=True)
def _axis_tables(coef):
    """ax[t, d]: the axis of tensor t that dim d indexes (-1: none); co[t, d]: its coefficient."""
    ax = np.full((3, 8), -1, dtype=np.int64)
    co = np.zeros((3, 8), dtype=np.int64)
    u = np.zeros(8, dtype=np.int64)
    out = np.zeros(N_AXES, dtype=np.int64)
    for t in range(3):
        for d in range(8):
            u[:] = 0
            u[d] = 1
            _project(t, u, coef, out)
            for a in range(N_AXES):
                if out[a] != 0:
                    ax[t, d] = a
                    co[t, d] = out[a]
    return ax, co


_CHUNK = 512


@njit(cache=True)
def _eval_range(lo, hi, max_children, bounds, coef, ax, co, cap, tcap, block, bw, energy, fan, acc_keep,
                mac_energy, num_macs, tf, order, sx, sy, sorder, keep,
                reason, cycles, energy_pj, util, ccycles, reads, fills, updates):
    """Evaluate mappings lo..hi-1 into the output arrays, with one workspace."""
    L = tf.shape[1]
    ws = _make_workspace_jit(L, max_children)
    sc = np.zeros(5)
    for b in range(lo, hi):
        r = _eval_one(bounds, coef, ax, co, L, cap, tcap, block, bw, energy, fan, acc_keep, mac_energy, num_macs,
                      tf[b], order[b], sx[b], sy[b], sorder[b], keep[b], reads[b], fills[b], updates[b], sc, ws)
        reason[b] = r
        if r == 0:
            cycles[b] = int(sc[1])
            energy_pj[b] = sc[2]
            util[b] = sc[3]
            ccycles[b] = int(sc[4])


@njit(cache=True)
def _outputs(B, L):
    return (np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64), np.zeros(B), np.zeros(B),
            np.zeros(B, dtype=np.int64), np.zeros((B, L, 3)), np.zeros((B, L, 3)), np.zeros((B, L, 3)))


@njit(cache=True)
def _max_children(fan):
    m = 1
    for l in range(fan.shape[0]):
        m = max(m, fan[l, 0] * fan[l, 1])
    return m


@njit(cache=True, parallel=True)
def evaluate_batch_arrays(bounds, coef, cap, tcap, block, bw, energy, fan, acc_keep, mac_energy, num_macs,
                          tf, order, sx, sy, sorder, keep):
    """Evaluate B mappings on all threads. Returns (reason[B], cycles[B], energy_pj[B], utilization[B],
    compute_cycles[B], reads[B,L,3], fills[B,L,3], updates[B,L,3]); counts are totals over instances."""
    B = tf.shape[0]
    out = _outputs(B, tf.shape[1])
    ax, co = _axis_tables(coef)
    mc = _max_children(fan)
    n_chunks = (B + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        _eval_range(c * _CHUNK, min(B, (c + 1) * _CHUNK), mc, bounds, coef, ax, co, cap, tcap, block, bw, energy,
                    fan, acc_keep, mac_energy, num_macs, tf, order, sx, sy, sorder, keep, *out)
    return out


@njit(cache=True)
def evaluate_batch_arrays_serial(bounds, coef, cap, tcap, block, bw, energy, fan, acc_keep, mac_energy, num_macs,
                                 tf, order, sx, sy, sorder, keep):
    """The same on the calling thread: small batches, where waking worker threads costs more."""
    B = tf.shape[0]
    out = _outputs(B, tf.shape[1])
    ax, co = _axis_tables(coef)
    _eval_range(0, B, _max_children(fan), bounds, coef, ax, co, cap, tcap, block, bw, energy,
                fan, acc_keep, mac_energy, num_macs, tf, order, sx, sy, sorder, keep, *out)
    return out
