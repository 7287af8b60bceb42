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


def cores_while_estimating(estimator, img):
    """In a worker: the sets of cores its thread was allowed while it estimated (OpenVINO pins
    the calling thread for the length of an inference)."""
    import os
    import threading

    tid, seen, done = threading.get_native_id(), set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.add(tuple(sorted(os.sched_getaffinity(tid))))
            done.wait(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            estimator.estimate(img)
    finally:
        done.set()
        watcher.join()
    return seen


def test_one_thread_workers_are_not_pinned_to_the_same_core(weights_ready, image):
    """OpenVINO pins its threads; with one thread per worker every worker pinned itself to the
    first core while the other idled (extraction used half the machine)."""
    import os

    pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
    from runtime.parallel import EstimatorPool

    everywhere = tuple(sorted(os.sched_getaffinity(0)))
    if len(everywhere) < 2:
        pytest.skip("needs two cores to tell")
    with EstimatorPool("blazepose-lite", "openvino", workers=2) as pool:
        got = list(pool.map(cores_while_estimating, [image(SINGLE_IMAGES[0])] * 2, chunk=1))
    assert got == [{everywhere}, {everywhere}]
