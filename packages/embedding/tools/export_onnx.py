"""Export sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide) from its
safetensors weights to an ONNX graph: inputs input_ids and attention_mask [batch, tokens]
(int64), output `embedding` [batch, 384]: mean pooling over the mask, L2-normalised, as
sentence-transformers computes it. Built with onnx.helper so no PyTorch is needed.

Usage: python export_onnx.py MODEL_DIR OUT.onnx   (MODEL_DIR holds model.safetensors)
"""
import json
import struct
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12
HEAD = HIDDEN // HEADS


def read_safetensors(path):
    # The format is an 8-byte little-endian header length, a JSON header, then raw tensors.
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            continue  # position_ids (I64) is a buffer, not a weight
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(meta["shape"])
    return out


def build(w):
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x, prefix, name):
        # torch Linear stores [out, in]; MatMul wants [in, out].
        wt = const(prefix + ".wT", w[prefix + ".weight"].T.copy())
        b = const(prefix + ".b", w[prefix + ".bias"])
        return node("Add", [node("MatMul", [x, wt], name + "_mm"), b], name)

    def layer_norm(x, prefix, name):
        g = const(prefix + ".g", w[prefix + ".weight"])
        b = const(prefix + ".b", w[prefix + ".bias"])
        return node("LayerNormalization", [x, g, b], name, axis=-1, epsilon=EPS)

    # Embeddings: word + position (0..T-1) + token type 0.
    shape = node("Shape", ["input_ids"], "ids_shape")
    seq = node("Gather", [shape, const("one_i", np.array(1, np.int64))], "seq_len", axis=0)
    pos = node("Range", [const("zero_i", np.array(0, np.int64)), seq, const("step_i", np.array(1, np.int64))], "pos_ids")
    word = node("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], "word")
    posv = node("Gather", [const("pos_emb", w["embeddings.position_embeddings.weight"]), pos], "posv")
    typ = const("type0", w["embeddings.token_type_embeddings.weight"][0])
    h = node("Add", [node("Add", [word, posv], "wp"), typ], "emb_sum")
    h = layer_norm(h, "embeddings.LayerNorm", "h0")

    # Additive attention mask [B, 1, 1, T]: 0 where attended, -1e4 on padding.
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask4 = node("Unsqueeze", [maskf, const("axes12", np.array([1, 2], np.int64))], "mask4")
    bias = node("Mul", [node("Sub", [const("onef", np.array(1, np.float32)), mask4], "inv_mask"), const("neg", np.array(-10000.0, np.float32))], "att_bias")
    split = const("split_shape", np.array([0, 0, HEADS, HEAD], np.int64))
    merge = const("merge_shape", np.array([0, 0, HIDDEN], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(HEAD), np.float32))
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        heads = {}
        for part in ("query", "key", "value"):
            x = linear(h, p + "attention.self." + part, f"l{l}_{part}")
            x = node("Reshape", [x, split], f"l{l}_{part}_split")
            heads[part] = node("Transpose", [x], f"l{l}_{part}_t", perm=[0, 2, 3, 1] if part == "key" else [0, 2, 1, 3])
        s = node("Mul", [node("MatMul", [heads["query"], heads["key"]], f"l{l}_qk"), scale], f"l{l}_scaled")
        a = node("Softmax", [node("Add", [s, bias], f"l{l}_masked")], f"l{l}_att", axis=-1)
        c = node("Transpose", [node("MatMul", [a, heads["value"]], f"l{l}_ctx")], f"l{l}_ctx_t", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, merge], f"l{l}_ctx_m")
        o = linear(c, p + "attention.output.dense", f"l{l}_att_out")
        h = layer_norm(node("Add", [o, h], f"l{l}_res1"), p + "attention.output.LayerNorm", f"l{l}_h1")
        i = linear(h, p + "intermediate.dense", f"l{l}_inter")
        # Exact GELU, as BERT's "gelu": 0.5 x (1 + erf(x / sqrt 2)).
        e = node("Erf", [node("Mul", [i, const(f"l{l}_rs2", np.array(1 / np.sqrt(2), np.float32))], f"l{l}_xs")], f"l{l}_erf")
        g = node("Mul", [node("Mul", [i, node("Add", [e, "onef"], f"l{l}_erf1")], f"l{l}_xe"), const(f"l{l}_half", np.array(0.5, np.float32))], f"l{l}_gelu")
        o = linear(g, p + "output.dense", f"l{l}_out")
        h = layer_norm(node("Add", [o, h], f"l{l}_res2"), p + "output.LayerNorm", f"l{l}_h2")

    # Mean pooling over attended tokens, then L2 normalisation.
    m3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], np.int64))], "mask3")
    summed = node("ReduceSum", [node("Mul", [h, m3], "masked_h"), const("axis1", np.array([1], np.int64))], "sum_h", keepdims=0)
    count = node("Max", [node("ReduceSum", [m3, "axis1"], "count", keepdims=0), const("tiny", np.array(1e-9, np.float32))], "count_c")
    mean = node("Div", [summed, count], "mean")
    norm = node("Max", [node("ReduceL2", [mean, const("axism1", np.array([-1], np.int64))], "l2", keepdims=1), const("tiny12", np.array(1e-12, np.float32))], "l2_c")
    node("Div", [mean, norm], "embedding")

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="spam-embedding-export")
    model.ir_version = 8
    checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: export_onnx.py MODEL_DIR OUT.onnx")
    model_dir, out = sys.argv[1], sys.argv[2]
    save(build(read_safetensors(model_dir + "/model.safetensors")), out)


if __name__ == "__main__":
    main()
