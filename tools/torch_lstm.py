#!/usr/bin/env python3
"""PyTorch's nn.LSTM forward and backward, written as a golden file for NativeGan's Lstm module (src/Nn/Modules/Lstm.cs).

  write FILE   builds torch.nn.LSTM(input_size=5, hidden_size=7, num_layers=2, bidirectional=True, batch_first=True)
               with PyTorch's own init (seed 36), draws x [N=3, T=4, 5] and initial states h0, c0 [4, 3, 7] uniform
               in [-1, 1), runs output, (hN, cN) = lstm(x, (h0, c0)) and the loss
                 loss = sum(output²) + sum(hN²) + sum(cN²)
               then loss.backward(). The file holds (float32):
                 lstm.*                          the state dict (weight_ih_l0, ..., bias_hh_l1_reverse)
                 x, h0, c0                       the inputs
                 output [3, 4, 14], hN, cN       the results
                 loss []                         the loss
                 grad.lstm.*, grad.x, grad.h0, grad.c0   the gradients of the loss
               tests/NativeGan.Tests/TestData/torch-lstm.safetensors was made by
                 /usr/bin/python3 tools/torch_lstm.py write tests/NativeGan.Tests/TestData/torch-lstm.safetensors
               and tests/NativeGan.Tests/Nn/LstmTorchTests.cs loads the weights into Lstm and compares.

  write-gru FILE   the same for torch.nn.GRU (seed 37; no c0, cN): tests/NativeGan.Tests/TestData/torch-gru.safetensors,
               checked by tests/NativeGan.Tests/Nn/GruTests.cs.
  time [LxHxTxN]   times one forward and backward of torch.nn.LSTM(H, H, L) over T steps of a batch of N (loss = sum of
               the output), 2 threads, median and range of seven runs after one warm-up; the figure beside
               `NativeGan.Benchmarks.dll lstm-quick` (default 2x350x100x20).

Run with Debian's interpreter: /usr/bin/python3 (python3-torch, torch 1.13). The safetensors writer is
tools/torch_interop.py's.
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_interop import save  # noqa: E402

INPUT, HIDDEN, LAYERS, BATCH, STEPS = 5, 7, 2, 3, 4


def write(path):
    torch.manual_seed(36)
    lstm = torch.nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS, bidirectional=True, batch_first=True)
    out = {"lstm." + k: v.detach().clone() for k, v in lstm.state_dict().items()}
    x = (torch.rand(BATCH, STEPS, INPUT) * 2 - 1).requires_grad_()
    h0 = (torch.rand(2 * LAYERS, BATCH, HIDDEN) * 2 - 1).requires_grad_()
    c0 = (torch.rand(2 * LAYERS, BATCH, HIDDEN) * 2 - 1).requires_grad_()
    output, (h_n, c_n) = lstm(x, (h0, c0))
    loss = output.square().sum() + h_n.square().sum() + c_n.square().sum()
    loss.backward()
    out.update({"x": x, "h0": h0, "c0": c0, "output": output, "hN": h_n, "cN": c_n, "loss": loss,
                "grad.x": x.grad, "grad.h0": h0.grad, "grad.c0": c0.grad})
    out.update({"grad.lstm." + k: p.grad for k, p in lstm.named_parameters()})
    finish(path, out, lstm, loss)


def write_gru(path):
    torch.manual_seed(37)
    gru = torch.nn.GRU(INPUT, HIDDEN, num_layers=LAYERS, bidirectional=True, batch_first=True)
    out = {"gru." + k: v.detach().clone() for k, v in gru.state_dict().items()}
    x = (torch.rand(BATCH, STEPS, INPUT) * 2 - 1).requires_grad_()
    h0 = (torch.rand(2 * LAYERS, BATCH, HIDDEN) * 2 - 1).requires_grad_()
    output, h_n = gru(x, h0)
    loss = output.square().sum() + h_n.square().sum()
    loss.backward()
    out.update({"x": x, "h0": h0, "output": output, "hN": h_n, "loss": loss, "grad.x": x.grad, "grad.h0": h0.grad})
    out.update({"grad.gru." + k: p.grad for k, p in gru.named_parameters()})
    finish(path, out, gru, loss)


def finish(path, out, module, loss):
    """Writes the golden file with the module's config as metadata."""
    config = {"input_size": str(INPUT), "hidden_size": str(HIDDEN), "num_layers": str(LAYERS),
              "bidirectional": "true", "batch_first": "true"}
    save(path, {k: v.detach() for k, v in out.items()}, {"written_by": f"torch {torch.__version__}", **config})
    print(f"wrote {path}: {len(out)} tensors; loss {loss.item():.6f}")


def time_lstm(size):
    import time
    layers, hidden, steps, batch = map(int, size.split("x"))
    torch.set_num_threads(2)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(hidden, hidden, num_layers=layers)
    x = torch.rand(steps, batch, hidden)
    times = []
    for rep in range(8):
        start = time.perf_counter()
        lstm(x)[0].sum().backward()
        lstm.zero_grad(set_to_none=True)
        if rep > 0:
            times.append(time.perf_counter() - start)
    times.sort()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {size} (layers x units x steps x batch): forward + backward "
          f"median {times[len(times) // 2] * 1e3:.0f} ms (range {times[0] * 1e3:.0f}-{times[-1] * 1e3:.0f} ms, {len(times)} runs)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "write-gru":
        write_gru(sys.argv[2])
    elif len(sys.argv) in (2, 3) and sys.argv[1] == "time":
        time_lstm(sys.argv[2] if len(sys.argv) == 3 else "2x350x100x20")
    else:
        sys.exit(__doc__)
