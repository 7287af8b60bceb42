// A camera frame's I420 planes (as VideoFrame.copyTo gives them) shrunk and converted to the int32
// RGB pixels TF.js makes a tensor of, in JavaScript: no canvas. Bilinear, as drawImage shrinks.

// [Kr, Kb] of the colour matrices a camera frame may name (VideoColorSpace.matrix).
const MATRICES = Object.freeze({
  bt709: Object.freeze([0.2126, 0.0722]), smpte170m: Object.freeze([0.299, 0.114]),
  bt470bg: Object.freeze([0.299, 0.114]), 'bt2020-ncl': Object.freeze([0.2627, 0.0593]),
});

// Whether readI420 knows a frame's colour matrix (none named: BT.601, what cameras mostly send);
// a frame naming another is drawn instead, as the browser knows every matrix.
export function knowsColours(colorSpace) {
  return !colorSpace?.matrix || Object.hasOwn(MATRICES, colorSpace.matrix);
}

// For each output position along an axis of n -> m samples: the two source indices and the
// weight of the second (pixel centres aligned, as drawImage samples).
function taps(n, m) {
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const f = new Float32Array(m);
  for (let i = 0; i < m; i += 1) {
    const s = Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / m - 0.5));
    i0[i] = Math.floor(s);
    i1[i] = Math.min(n - 1, i0[i] + 1);
    f[i] = s - i0[i];
  }
  return { i0, i1, f };
}

// data: the planes (Uint8Array), layout: copyTo's [{offset, stride}] for Y, U, V; w x h the frame's
// visible size, out: width x height; colorSpace: the frame's. -> Int32Array (RGB, row by row).
export function readI420(data, layout, w, h, width, height, colorSpace) {
  const [kr, kb] = MATRICES[colorSpace?.matrix] ?? MATRICES.smpte170m;
  const kg = 1 - kr - kb;
  const full = colorSpace?.fullRange === true;
  const ys = full ? 1 : 255 / 219;
  const cs = full ? 1 : 255 / 224;
  const y0 = full ? 0 : 16;
  const crR = 2 * (1 - kr) * cs;
  const cbB = 2 * (1 - kb) * cs;
  const cbG = (2 * (1 - kb) * kb / kg) * cs;
  const crG = (2 * (1 - kr) * kr / kg) * cs;
  const [Y, U, V] = layout;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const lx = taps(w, width);
  const ly = taps(h, height);
  const cx = taps(cw, width);
  const cy = taps(ch, height);
  const out = new Int32Array(width * height * 3);
  const clamped = new Uint8ClampedArray(3); // rounds and clamps as it stores
  let o = 0;
  for (let j = 0; j < height; j += 1) {
    const ya = Y.offset + ly.i0[j] * Y.stride;
    const yb = Y.offset + ly.i1[j] * Y.stride;
    const fy = ly.f[j];
    const ua = U.offset + cy.i0[j] * U.stride;
    const ub = U.offset + cy.i1[j] * U.stride;
    const va = V.offset + cy.i0[j] * V.stride;
    const vb = V.offset + cy.i1[j] * V.stride;
    const gy = cy.f[j];
    for (let i = 0; i < width; i += 1) {
      const x0 = lx.i0[i];
      const x1 = lx.i1[i];
      const fx = lx.f[i];
      const top = data[ya + x0] + (data[ya + x1] - data[ya + x0]) * fx;
      const bottom = data[yb + x0] + (data[yb + x1] - data[yb + x0]) * fx;
      const luma = (top + (bottom - top) * fy - y0) * ys;
      const c0 = cx.i0[i];
      const c1 = cx.i1[i];
      const gx = cx.f[i];
      const ut = data[ua + c0] + (data[ua + c1] - data[ua + c0]) * gx;
      const ubm = data[ub + c0] + (data[ub + c1] - data[ub + c0]) * gx;
      const vt = data[va + c0] + (data[va + c1] - data[va + c0]) * gx;
      const vbm = data[vb + c0] + (data[vb + c1] - data[vb + c0]) * gx;
      const cb = ut + (ubm - ut) * gy - 128;
      const cr = vt + (vbm - vt) * gy - 128;
      clamped[0] = luma + crR * cr;
      clamped[1] = luma - cbG * cb - crG * cr;
      clamped[2] = luma + cbB * cb;
      out[o] = clamped[0];
      out[o + 1] = clamped[1];
      out[o + 2] = clamped[2];
      o += 3;
    }
  }
  return out;
}
