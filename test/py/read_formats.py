"""Reads TFRecord (tf.train.Example) or HDF5 shards with libraries independent of the pipeline's
(Google's protobuf runtime; h5py) and prints their rows as JSON lines, padding removed.

usage: read_formats.py tfrecord|hdf5 FILE
"""
import json
import struct
import sys


def crc32c(data):
    # CRC-32C (Castagnoli), bitwise: an independent reference for the record checksums
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def example_class():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    f = descriptor_pb2.FileDescriptorProto(name="example.proto", package="tensorflow")
    F = descriptor_pb2.FieldDescriptorProto
    def msg(name, fields, nested=()):
        m = f.message_type.add(name=name)
        for fname, num, ftype, label, tname, oneof in fields:
            fd = m.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                fd.type_name = tname
            if oneof is not None:
                fd.oneof_index = oneof
        return m
    msg("BytesList", [("value", 1, F.TYPE_BYTES, F.LABEL_REPEATED, None, None)])
    msg("FloatList", [("value", 1, F.TYPE_FLOAT, F.LABEL_REPEATED, None, None)])
    msg("Int64List", [("value", 1, F.TYPE_INT64, F.LABEL_REPEATED, None, None)])
    feat = msg("Feature", [("bytes_list", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".tensorflow.BytesList", 0),
                           ("float_list", 2, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".tensorflow.FloatList", 0),
                           ("int64_list", 3, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".tensorflow.Int64List", 0)])
    feat.oneof_decl.add(name="kind")
    feats = msg("Features", [("feature", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".tensorflow.Features.FeatureEntry", None)])
    entry = feats.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=".tensorflow.Feature")
    msg("Example", [("features", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".tensorflow.Features", None)])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    d = pool.FindMessageTypeByName("tensorflow.Example")
    get = getattr(message_factory, "GetMessageClass", None)
    return get(d) if get else message_factory.MessageFactory(pool).GetPrototype(d)


def tfrecord(path):
    Example = example_class()
    with open(path, "rb") as fh:
        data = fh.read()
    at = 0
    while at < len(data):
        head = data[at:at + 8]
        (n,) = struct.unpack("<Q", head)
        (hc,) = struct.unpack("<I", data[at + 8:at + 12])
        assert hc == masked(crc32c(head)), f"length CRC at byte {at}"
        body = data[at + 12:at + 12 + n]
        (bc,) = struct.unpack("<I", data[at + 12 + n:at + 16 + n])
        assert bc == masked(crc32c(body)), f"data CRC at byte {at}"
        at += 16 + n
        ex = Example()
        ex.ParseFromString(body)
        f = ex.features.feature
        ints = lambda k: list(f[k].int64_list.value)
        mask = ints("input_mask")
        n_tok = sum(mask)
        weights = list(f["masked_lm_weights"].float_list.value)
        k = int(sum(weights))
        print(json.dumps({
            "input_ids": ints("input_ids")[:n_tok], "token_type_ids": ints("segment_ids")[:n_tok],
            "padding_ok": all(v == 0 for v in ints("input_ids")[n_tok:]) and mask == [1] * n_tok + [0] * (len(mask) - n_tok),
            "masked_lm_positions": ints("masked_lm_positions")[:k], "masked_lm_ids": ints("masked_lm_ids")[:k],
            "weights": weights, "next_sentence_label": ints("next_sentence_labels")[0],
            "widths": [len(mask), len(weights)],
        }))


def hdf5(path):
    import h5py
    with h5py.File(path, "r") as f:
        dtypes = {k: str(f[k].dtype) for k in f}
        print(json.dumps({"dtypes": dtypes, "compression": {k: f[k].compression for k in f}}))
        ids, mask, seg = f["input_ids"][:], f["input_mask"][:], f["segment_ids"][:]
        pos, lm, nsl = f["masked_lm_positions"][:], f["masked_lm_ids"][:], f["next_sentence_labels"][:]
        for i in range(len(nsl)):
            n = int(mask[i].sum())
            k = int((pos[i] != 0).sum())
            print(json.dumps({
                "input_ids": ids[i][:n].tolist(), "token_type_ids": seg[i][:n].tolist(),
                "padding_ok": bool((ids[i][n:] == 0).all() and (mask[i][:n] == 1).all()),
                "masked_lm_positions": pos[i][:k].tolist(), "masked_lm_ids": lm[i][:k].tolist(),
                "next_sentence_label": int(nsl[i]), "widths": [ids.shape[1], pos.shape[1]],
            }))


if __name__ == "__main__":
    {"tfrecord": tfrecord, "hdf5": hdf5}[sys.argv[1]](sys.argv[2])
