"""The fast websocket unmasking gives exactly eventlet's bytes."""
import random
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet's deprecation notice; the README says why we keep it
    from eventlet.websocket import RFC6455WebSocket

from server.fast_websocket import apply_mask

ORIGINAL = RFC6455WebSocket.__dict__["_apply_mask"].__func__


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 1000, 65537])
def test_same_bytes_as_eventlet(size):
    rng = random.Random(size)
    data = bytes(rng.getrandbits(8) for _ in range(size))
    for mask in ([rng.getrandbits(8) for _ in range(4)], bytes(rng.getrandbits(8) for _ in range(4))):
        for offset in (0, 1, 2, 3, 7):
            assert apply_mask(data, mask, offset=offset) == ORIGINAL(data, mask, offset=offset)
            if size > 2:
                assert apply_mask(data, mask, length=size - 2, offset=offset) == ORIGINAL(data, mask, size - 2, offset)


def test_masking_twice_gives_the_original():
    data = "héllo, posecast".encode()
    assert apply_mask(apply_mask(data, b"abcd"), b"abcd") == data
