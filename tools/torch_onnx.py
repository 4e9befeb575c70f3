#!/usr/bin/env python3
"""Golden files for NativeGan's ONNX reader (src/Nn/Onnx), and PyTorch's ResNet-18 speed on the cpu.

  write-small DIR    builds SmallNet below (seed 35; PyTorch's init, batch norm statistics set to random values),
                     exports it with torch.onnx.export (opset 13, eval mode: PyTorch folds a batch norm that follows a
                     convolution into it, and keeps the one after a ReLU) to DIR/torch-small.onnx, and writes
                     DIR/torch-small.safetensors (float32):
                       x [2, 3, 13, 11]   the input, uniform in [0, 1)
                       y [2, 6]           PyTorch's output
                       grad.x             d sum(y²) / dx (the gradient through the network to its input)
                     The graph uses Sub and Div by constants, Conv, BatchNormalization, Relu, Add, MaxPool with
                     padding, Mul by a constant, Concat, Split, LeakyRelu, AveragePool, GlobalAveragePool, Flatten,
                     Gemm, Sigmoid, Reshape, MatMul and Tanh. tests/NativeGan.Tests/Nn/OnnxTorchTests.cs compares.
  resnet-golden PREP.onnx NET.onnx OUT
                     computes ML.NET's ResNet-18 (ResNetPreprocess.onnx, then ResNet18.onnx, from the NuGet package
                     Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0) on the fixed image resnet_probe_image() below,
                     independently of NativeGan: python3-onnx reads the files, numpy computes every node in float64
                     (its own convolution, batch norm, pooling). Writes OUT (safetensors): features [1, 512, 1, 1] and
                     the value after the first convolution's ReLU, "relu1" [1, 64, 8, 8] (its top-left corner).
                     tests/NativeGan.Tests/Nn/ResNet18Tests.cs compares.
  time [BATCH]       PyTorch CPU (2 threads) images per second of a ResNet-18 forward (torchvision's architecture,
                     written out here; random weights: the speed does not depend on them) on [BATCH, 3, 224, 224],
                     batch 8 by default: the median of five timed batches after one warm-up.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13, python3-onnx 1.12, python3-numpy). The
safetensors writer is tools/torch_interop.py's.
"""
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])


# ---------------------------------------------------------------- the small PyTorch network

def small_net():
    import torch
    from torch import nn

    class SmallNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 5, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(5)
            self.conv2 = nn.Conv2d(5, 5, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(5, eps=1e-3)
            self.pool = nn.MaxPool2d(3, 2, 1)
            self.conv3 = nn.Conv2d(10, 7, 1, stride=2)
            self.avg = nn.AvgPool2d(2)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(21, 4)
            self.proj = nn.Parameter(torch.randn(4, 6) * 0.5)

        def forward(self, x):
            x = (x - 0.45) / 0.225
            a = torch.relu(self.bn1(self.conv1(x)))
            b = self.bn2(torch.relu(self.conv2(a)))
            r = self.pool(a + b)
            c = torch.cat([r, r * 2.0], dim=1)
            c = nn.functional.leaky_relu(self.conv3(c), 0.1)
            s1, s2 = torch.split(c, [3, 4], dim=1)
            c = torch.cat([s2, s1], dim=1)
            f = torch.cat([torch.flatten(self.avg(c), 1), torch.flatten(self.gap(c), 1)], dim=1)
            h = torch.sigmoid(self.fc(f))
            h = h.reshape(-1, 2, 2).reshape(-1, 4)
            return torch.tanh(h @ self.proj)

    torch.manual_seed(35)
    net = SmallNet()
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
    return net.eval()


def write_small(out_dir):
    import torch
    from torch_interop import save

    net = small_net()
    x = torch.rand(2, 3, 13, 11)
    onnx_path = f"{out_dir}/torch-small.onnx"
    torch.onnx.export(net, (x,), onnx_path, opset_version=13, input_names=["x"], output_names=["y"],
                      training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    xg = x.clone().requires_grad_()
    y = net(xg)
    y.square().sum().backward()
    save(f"{out_dir}/torch-small.safetensors", {"x": x, "y": y.detach(), "grad.x": xg.grad},
         {"written_by": f"torch {torch.__version__}", "onnx": "torch-small.onnx"})
    import onnx
    ops = sorted({n.op_type for n in onnx.load(onnx_path).graph.node})
    print(f"wrote {onnx_path} (operators: {', '.join(ops)}) and torch-small.safetensors; y[0] = {y[0].tolist()}")


# ---------------------------------------------------------------- ResNet-18 in numpy, float64

def resnet_probe_image():
    """[1, 3, 224, 224] RGB in 0..255: integers from a fixed formula (a ramp, a texture and a disc), so the C# test
    makes the same image exactly (NativeGan.Tests ResNet18Tests.ProbeImage)."""
    c, h, w = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing="ij")
    ramp = (h + w) * 255 // 446
    texture = (h * 7 + w * 13 + c * 29 + (h * w) % 17) % 64
    disc = np.where((h - 100) ** 2 + (w - 130) ** 2 < 60 ** 2, 60 * (c + 1), 0)
    return ((ramp + texture + disc) % 256).astype(np.float64)[None]


def conv2d(x, w, b, stride, pads):
    """Cross-correlation with ONNX pads [top, left, bottom, right], in float64 (im2col by strides, then one matmul)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - kh) // stride + 1
    ow = (xp.shape[3] - kw) // stride + 1
    s = xp.strides
    cols = np.lib.stride_tricks.as_strided(xp, (n, c, kh, kw, oh, ow), (s[0], s[1], s[2], s[3], s[2] * stride, s[3] * stride))
    y = np.einsum("nckluv,ockl->nouv", cols, w, optimize=True)
    return y + (0 if b is None else b[None, :, None, None])


def pool(x, k, stride, pads, reduce, fill):
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=fill)
    oh = (xp.shape[2] - k) // stride + 1
    ow = (xp.shape[3] - k) // stride + 1
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(xp, (x.shape[0], x.shape[1], oh, ow, k, k), (s[0], s[1], s[2] * stride, s[3] * stride, s[2], s[3]))
    return reduce(win, axis=(4, 5))


def run_onnx_numpy(path, feeds, keep=()):
    """Every node of the file in float64 numpy (the operators the two ML.NET files use); returns all values."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    values.update(feeds)
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        x = [values[i] for i in node.input]
        op = node.op_type
        if op == "Conv":
            assert a.get("group", 1) == 1 and list(a.get("dilations", [1, 1])) == [1, 1]
            y = [conv2d(x[0], x[1], x[2] if len(x) > 2 else None, a["strides"][0], a["pads"])]
        elif op == "BatchNormalization":
            scale, bias, mean, var = x[1:5]
            inv = scale / np.sqrt(var + a.get("epsilon", 1e-5))
            y = [(x[0] - mean[None, :, None, None]) * inv[None, :, None, None] + bias[None, :, None, None]]
        elif op == "Relu":
            y = [np.maximum(x[0], 0)]
        elif op == "Add":
            y = [x[0] + x[1]]
        elif op == "Sub":
            y = [x[0] - x[1]]
        elif op == "MaxPool":
            y = [pool(x[0], a["kernel_shape"][0], a["strides"][0], a["pads"], np.max, -np.inf)]
        elif op == "AveragePool":
            assert not any(a.get("pads", [0])), "padded average pooling"
            y = [pool(x[0], a["kernel_shape"][0], a["strides"][0], [0, 0, 0, 0], np.mean, 0)]
        elif op == "Split":
            y = np.split(x[0], np.cumsum(a["split"])[:-1], axis=a["axis"])
        elif op == "Concat":
            y = [np.concatenate(x, axis=a["axis"])]
        else:
            raise SystemExit(f"{path}: node {node.name} ({op}) is not computed by this reference")
        for name, v in zip(node.output, y):
            values[name] = v
    return values


def resnet_golden(prep_path, net_path, out):
    from torch_interop import save
    import torch

    image = resnet_probe_image()
    prep = run_onnx_numpy(prep_path, {"OriginalInput": image})
    pre = prep["PreprocessedInput"]
    values = run_onnx_numpy(net_path, {"Input247": pre})
    features = values["Pooling395_Output_0"]
    relu1 = values["ReLU253_Output_0"][:, :, :8, :8]
    save(out, {"features": torch.from_numpy(features.astype(np.float32)), "relu1": torch.from_numpy(relu1.astype(np.float32).copy())},
         {"written_by": f"numpy {np.__version__} float64 from {net_path.rsplit('/', 1)[-1]}", "image": "resnet_probe_image"})
    print(f"wrote {out}: features mean {features.mean():.6f}, max {features.max():.6f}, first {features.ravel()[:4]}")


# ---------------------------------------------------------------- PyTorch CPU speed

def resnet18_torch():
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.down = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers.append(nn.AvgPool2d(7))
    return nn.Sequential(*layers).eval()


def time_resnet(batch):
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = resnet18_torch()
    x = torch.rand(batch, 3, 224, 224) * 255
    times = []
    with torch.no_grad():
        for rep in range(6):
            start = time.perf_counter()
            net(x)
            if rep > 0:
                times.append(time.perf_counter() - start)
    times.sort()
    med = times[len(times) // 2]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: ResNet-18 forward, batch {batch}: "
          f"median {med * 1e3:.0f} ms = {batch / med:.1f} images/s (range {batch / times[-1]:.1f}-{batch / times[0]:.1f}, {len(times)} batches)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write-small":
        write_small(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "resnet-golden":
        resnet_golden(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (2, 3) and sys.argv[1] == "time":
        time_resnet(int(sys.argv[2]) if len(sys.argv) == 3 else 8)
    else:
        print(__doc__)
        sys.exit(2)
