"""Independent Python references for slidescale-stain's methods.

usage: reference.py METHOD TARGET.png TILES.u8 SIDE OUT.u8

Fits METHOD to TARGET.png, normalises every SIDE×SIDE×3 tile of TILES.u8
(raw uint8) and writes the results to OUT.u8; prints the fitted target as
JSON. Written from the published algorithms with numpy, scikit-image and
scikit-learn, not from the Rust code:

* macenko: numpy port of M. Veta's normalizeStaining.m (Io = 240, alpha = 1,
  beta = 0.15), eigenvector signs fixed (red >= 0), 99th percentile of
  concentrations over tissue pixels.
* reinhard: skimage.color.rgb2lab / lab2rgb, mean and population std over
  all pixels.
* vahadane: staintools' recipe with scikit-learn: DictionaryLearning
  (2 atoms, alpha 0.1, positive code and dictionary, coordinate descent) on
  tissue ODs, sparse_encode (lasso_cd, alpha 0.01, positive) for
  concentrations.
"""
import json
import sys
import warnings

import numpy as np
from PIL import Image

BETA = 0.15


def to_u8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def enough(mask):
    return mask.sum() >= max(64, 0.01 * mask.size)


# ---- Macenko ----------------------------------------------------------------
def macenko_fit(img):
    od = -np.log((img.reshape(-1, 3).astype(np.float64) + 1) / 240)
    mask = ~np.any(od < BETA, axis=1)
    if not enough(mask):
        return None
    odhat = od[mask]
    _, v = np.linalg.eigh(np.cov(odhat.T))
    v = v[:, 1:3]
    v = v * np.where(v[0] < 0, -1.0, 1.0)
    that = odhat @ v
    phi = np.arctan2(that[:, 1], that[:, 0])
    lo, hi = np.percentile(phi, 1), np.percentile(phi, 99)
    v_min = v @ np.array([np.cos(lo), np.sin(lo)])
    v_max = v @ np.array([np.cos(hi), np.sin(hi)])
    he = np.array([v_min, v_max]) if v_min[0] > v_max[0] else np.array([v_max, v_min])
    he /= np.linalg.norm(he, axis=1)[:, None]
    c = np.linalg.lstsq(he.T, od.T, rcond=None)[0]
    max_c = np.percentile(c[:, mask], 99, axis=1)
    return dict(stains=he, max_conc=max_c, conc=c)


def macenko_apply(img, target):
    src = macenko_fit(img)
    if src is None:
        return img
    c = src["conc"] * (target["max_conc"] / src["max_conc"])[:, None]
    out = 240 * np.exp(-(target["stains"].T @ c))
    return to_u8(out.T).reshape(img.shape)


# ---- Reinhard ---------------------------------------------------------------
def reinhard_fit(img):
    from skimage.color import rgb2lab
    od = -np.log((img.reshape(-1, 3).astype(np.float64) + 1) / 240)
    if not enough(~np.any(od < BETA, axis=1)):
        return None
    lab = rgb2lab(img).reshape(-1, 3)
    return dict(mean=lab.mean(axis=0), std=lab.std(axis=0))


def reinhard_apply(img, target):
    from skimage.color import lab2rgb, rgb2lab
    src = reinhard_fit(img)
    if src is None:
        return img
    lab = rgb2lab(img)
    lab = (lab - src["mean"]) / src["std"] * target["std"] + target["mean"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb = lab2rgb(lab)
    return to_u8(rgb * 255)


# ---- Vahadane ---------------------------------------------------------------
def od_pos(img):
    x = np.maximum(img.reshape(-1, 3), 1).astype(np.float64)
    return np.maximum(-np.log(x / 255), 1e-6)


def vahadane_fit(img):
    from sklearn.decomposition import DictionaryLearning, sparse_encode
    od = od_pos(img)
    mask = np.all(od >= BETA, axis=1)
    if not enough(mask):
        return None
    x = od[mask]
    x = x[:: max(1, len(x) // 2000)]
    dl = DictionaryLearning(n_components=2, alpha=0.1, fit_algorithm="cd",
                            transform_algorithm="lasso_cd", positive_code=True,
                            positive_dict=True, max_iter=300, tol=1e-9, random_state=0)
    d = dl.fit(x).components_
    d = d / np.linalg.norm(d, axis=1)[:, None]
    if d[0, 0] < d[1, 0]:
        d = d[[1, 0]]
    c = sparse_encode(od, d, algorithm="lasso_cd", alpha=0.01, positive=True, max_iter=5000)
    max_c = np.percentile(c[mask], 99, axis=0)
    return dict(stains=d, max_conc=max_c, conc=c.T)


def vahadane_apply(img, target):
    src = vahadane_fit(img)
    if src is None:
        return img
    c = src["conc"] * (target["max_conc"] / src["max_conc"])[:, None]
    out = 255 * np.exp(-(target["stains"].T @ c))
    return to_u8(out.T).reshape(img.shape)


METHODS = {"macenko": (macenko_fit, macenko_apply), "reinhard": (reinhard_fit, reinhard_apply),
           "vahadane": (vahadane_fit, vahadane_apply)}


def main():
    method, target_png, tiles_path, side, out_path = sys.argv[1:6]
    side = int(side)
    fit, apply = METHODS[method]
    target = fit(np.asarray(Image.open(target_png).convert("RGB")))
    tiles = np.fromfile(tiles_path, np.uint8).reshape(-1, side, side, 3)
    np.stack([apply(t, target) for t in tiles]).tofile(out_path)
    print(json.dumps({k: np.asarray(v).tolist() for k, v in target.items() if k != "conc"}))


if __name__ == "__main__":
    main()
