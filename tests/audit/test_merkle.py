"""RFC 6962 tree hashing, proofs and signatures, against the transparency-dev/merkle vectors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etanche.crypto import (
    EMPTY_ROOT,
    MerkleFrontier,
    Signer,
    Verifier,
    consistency_path,
    inclusion_path,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_path,
    verify_consistency,
    verify_inclusion,
)
from etanche.errors import CryptoError, IntegrityError

# Vectors of github.com/transparency-dev/merkle proof/verify_test.go (leaves, roots
# of sizes 1..8, proofs); leaf numbers there are 1-based, here 0-based.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
          "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def _reference_mth(digests: list[bytes]) -> bytes:
    """RFC 6962 §2.1 written recursively, as a second opinion."""
    n = len(digests)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return digests[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(_reference_mth(digests[:k]), _reference_mth(digests[k:]))


def _flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[(bit // 8) % len(changed)] ^= 1 << (bit % 8)
    return bytes(changed)


def test_empty_tree_hash() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MerkleFrontier().root() == EMPTY_ROOT == merkle_root([])


def test_roots_of_the_vectors() -> None:
    frontier = MerkleFrontier()
    for size, digest in enumerate(HASHES, start=1):
        frontier.append(digest)
        assert frontier.root().hex() == ROOTS[size - 1]
        assert merkle_root(HASHES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert inclusion_path(index, HASHES, size) == expected
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(index, size, HASHES[index], expected, root)
    for wrong in (index + 1, index - 1, index ^ 2):
        if 0 <= wrong < size:
            assert not verify_inclusion(wrong, size, HASHES[index], expected, root)
    assert not verify_inclusion(index, size * 2, HASHES[index], expected, root)
    assert not verify_inclusion(index, size, HASHES[index], [*expected, root], root)
    assert not verify_inclusion(index, size, HASHES[index], [root, *expected], root)
    assert not verify_inclusion(index, size, HASHES[index], expected[:-1], root)
    assert not verify_inclusion(index, size, HASHES[index], expected, EMPTY_ROOT)


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert consistency_path(first, HASHES, second) == expected
    r1, r2 = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert verify_consistency(first, second, r1, r2, expected)
    assert not verify_consistency(first, second, r2, r1, expected)
    assert not verify_consistency(first - 1, second, r1, r2, expected)
    assert not verify_consistency(first, second * 2, r1, r2, expected)
    assert not verify_consistency(first, second, r1, r2, [])
    assert not verify_consistency(first, second, r1, r2, expected[:-1])
    assert not verify_consistency(first, second, r1, r2, [*expected, r2])
    assert not verify_consistency(first, second, r1, r2, [expected[0], *expected])


def test_trivial_consistency() -> None:
    root = bytes.fromhex(ROOTS[0])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, root, [])
    assert verify_consistency(1, 1, root, root, [])
    assert not verify_consistency(1, 1, root, EMPTY_ROOT, [])
    assert not verify_consistency(1, 1, root, root, [EMPTY_ROOT])
    assert not verify_consistency(2, 1, root, root, [])
    assert consistency_path(0, HASHES) == [] == consistency_path(8, HASHES)


def test_malformed_inputs_fail_cleanly() -> None:
    assert root_from_inclusion_path(0, 0, HASHES[0], []) is None
    assert root_from_inclusion_path(1, 1, HASHES[0], []) is None
    assert root_from_inclusion_path(0, 1, b"short", []) is None
    assert not verify_inclusion(0, 2, HASHES[0], [b""], ROOTS[1].encode())
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_path(8, HASHES)
    with pytest.raises(ValueError, match="not ordered"):
        consistency_path(5, HASHES, 3)


tree_sizes = st.integers(min_value=1, max_value=70)


@settings(max_examples=60, deadline=None)
@given(tree_sizes)
def test_every_inclusion_proof_verifies(size: int) -> None:
    digests = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = merkle_root(digests)
    assert root == _reference_mth(digests)
    for index in range(size):
        path = inclusion_path(index, digests)
        assert verify_inclusion(index, size, digests[index], path, root), (index, size)


@settings(max_examples=60, deadline=None)
@given(tree_sizes)
def test_every_consistency_proof_verifies(size: int) -> None:
    digests = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    frontier = MerkleFrontier()
    roots = [frontier.root()]
    for digest in digests:
        frontier.append(digest)
        roots.append(frontier.root())
    for first in range(size + 1):
        proof = consistency_path(first, digests)
        assert verify_consistency(first, size, roots[first], roots[size], proof), (first, size)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_flipped_bit_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=64))
    digests = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = merkle_root(digests)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = inclusion_path(index, digests)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    target = data.draw(st.sampled_from(["leaf", "root", "path"]))
    if target == "leaf":
        assert not verify_inclusion(index, size, _flip(digests[index], bit), path, root)
    elif target == "root":
        assert not verify_inclusion(index, size, digests[index], path, _flip(root, bit))
    else:
        at = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        path[at] = _flip(path[at], bit)
        assert not verify_inclusion(index, size, digests[index], path, root)

    first = data.draw(st.integers(min_value=1, max_value=size - 1))
    proof = consistency_path(first, digests)
    old = merkle_root(digests, 0, first)
    assert verify_consistency(first, size, old, root, proof)
    assert not verify_consistency(first, size, _flip(old, bit), root, proof)
    assert not verify_consistency(first, size, old, _flip(root, bit), proof)
    at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    proof[at] = _flip(proof[at], bit)
    assert not verify_consistency(first, size, old, root, proof)


def test_frontier_copy_is_independent() -> None:
    frontier = MerkleFrontier()
    frontier.extend(HASHES[:5])
    fork = frontier.copy()
    fork.extend(HASHES[5:])
    assert frontier.root().hex() == ROOTS[4] and fork.root().hex() == ROOTS[7]
    assert (frontier.size, fork.size) == (5, 8)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_frontier_bytes_round_trip(size: int) -> None:
    frontier = MerkleFrontier()
    frontier.extend(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    data = frontier.to_bytes()
    assert len(data) == 8 + 32 * size.bit_count()  # one root per perfect subtree
    back = MerkleFrontier.from_bytes(data)
    assert (back.size, back.root()) == (size, frontier.root())
    back.append(HASHES[0])  # resumes exactly where the original would
    frontier.append(HASHES[0])
    assert back.root() == frontier.root()


def test_frontier_bytes_of_the_wrong_shape_are_refused() -> None:
    frontier = MerkleFrontier()
    frontier.extend(HASHES[:5])  # size 5: two roots
    data = frontier.to_bytes()
    for bad in (b"", data[:7], data[:-1], data + bytes(32), (7).to_bytes(8, "big") + data[8:]):
        with pytest.raises(ValueError, match="frontier"):
            MerkleFrontier.from_bytes(bad)


def test_signatures_round_trip_and_fail() -> None:
    signer = Signer.from_seed(bytes(range(32)))
    verifier = Verifier.from_pem(signer.public_key_pem())
    assert verifier.key_id == signer.key_id and len(signer.key_id) == 16
    signature = signer.sign(b"message")
    verifier.verify(b"message", signature)
    with pytest.raises(IntegrityError, match="does not verify"):
        verifier.verify(b"messagf", signature)
    with pytest.raises(IntegrityError):
        verifier.verify(b"message", _flip(signature, 3))
    other = Signer.from_seed(bytes(32))
    assert other.key_id != signer.key_id
    with pytest.raises(IntegrityError):
        Verifier.from_pem(other.public_key_pem()).verify(b"message", signature)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(CryptoError, match="32-byte"):
        Signer.from_seed(b"short")
    with pytest.raises(CryptoError, match="not a PEM"):
        Verifier.from_pem("not a key")


def test_inclusion_paths_equal_rfc6962_paths_for_every_leaf_and_size() -> None:
    from etanche.crypto import inclusion_path, inclusion_paths, leaf_hash

    leaves = [leaf_hash(bytes([i])) for i in range(70)]
    for size in range(1, 70):
        many = inclusion_paths(range(size), leaves, size)
        assert [many[i] for i in range(size)] == [
            inclusion_path(i, leaves, size) for i in range(size)
        ]
    assert inclusion_paths([], leaves, 5) == {}
    with pytest.raises(ValueError, match="leaf 5 is not in a tree of size 5"):
        inclusion_paths([1, 5], leaves, 5)
