"""Still images in worker processes (runtime.parallel, what training's extraction runs) give the
poses the one-by-one path gives on the same executor, in the images' order, and a worker that
cannot load its backbone gives the caller that error itself."""
import pytest

from .conftest import FROM_ABOVE, LOST_ON_REFINE, SINGLE_IMAGES

# two photos, then girl3 from above and the image the refined pass loses: the workers' fallback
# (MoveNet Thunder, loaded in each worker at its first such image) runs too
IMAGES = [SINGLE_IMAGES[0], FROM_ABOVE, SINGLE_IMAGES[3], LOST_ON_REFINE]


def _rows(poses):
    return [(p.score, [(k["name"], k["x"], k["y"], k["score"]) for k in p.keypoints]) for p in poses]


def test_workers_give_the_poses_of_one_by_one_in_order(weights_ready, image):
    pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
    import runtime
    from runtime.parallel import EstimatorPool, still_poses

    pixels = [image(name) for name in IMAGES]
    here = runtime.load("blazepose-lite", "openvino", threads=1)  # a worker's executor, in this process
    with EstimatorPool("blazepose-lite", "openvino", workers=2) as pool:
        pooled = list(pool.map(still_poses, pixels, chunk=1, window=3))
    assert len(pooled) == len(IMAGES)
    for name, img, got in zip(IMAGES, pixels, pooled):
        assert got, name  # everyone is found (two of them by the fallback)
        assert _rows(got) == _rows(here.estimate(img)), name


def test_a_worker_that_cannot_load_gives_its_error(weights_ready, image):
    from runtime.parallel import EstimatorPool, still_poses

    with EstimatorPool("blazepose-lite", "tensorflow", workers=1, still_fallback="sideways") as pool:
        with pytest.raises(ValueError, match="unknown still-image fallback 'sideways'"):
            list(pool.map(still_poses, [image(SINGLE_IMAGES[0])]))
