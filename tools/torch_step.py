#!/usr/bin/env python3
"""One whole DCGAN training step in PyTorch, written as a golden file for NativeGan's DcganJob.Step.

  write FILE   builds a SMALL DCGAN (latent 10, g_width 8, d_width 8, images 1x32x32, batch 4: every layer kind
               of the full model, ConvTranspose2d / BatchNorm2d / ReLU / Tanh in the generator, Conv2d /
               BatchNorm2d / LeakyReLU(0.2) in the discriminator) with the layouts of
               benchmarks/reference/torch_reference.py (= src/Gan/Models/Dcgan.cs), initialises it as DCGAN does
               (convolution weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts and the last bias 0), draws a
               real batch uniform in [-1, 1] and the step's latents z ~ N(0, 1), and does ONE training step exactly
               as src/Gan/Models/DcganJob.cs Step does it:
                 fake = G(z)                                     (one generator forward, train mode)
                 loss_d = BCE(D(real), 1) + BCE(D(fake.detach()), 0)   (real and fake as two D batches)
                 loss_d.backward(); Adam_D.step()
                 loss_g = BCE(D(fake), 1)                        (the SAME fake, through the updated D)
                 loss_g.backward(); Adam_G.step()
               BCE is binary_cross_entropy_with_logits with the mean over the batch; Adam lr 2e-4, betas
               (0.5, 0.999), eps 1e-8 for both networks.
               The file holds (names exactly as NativeGan's state dicts, num_batches_tracked as float32):
                 generator.*, discriminator.*              the initial state dicts
                 real [4,1,32,32], z [4,10,1,1]            the step's inputs
                 loss_d [], loss_g []                      the losses
                 after.generator.*, after.discriminator.*  every parameter and buffer after the step
                 grad_d.discriminator.*                    D's gradients of loss_d (before Adam_D's step)
                 grad_g.generator.*                        G's gradients of loss_g (before Adam_G's step)
               tests/NativeGan.Tests/TestData/torch-dcgan-step.safetensors was made by
                 /usr/bin/python3 tools/torch_step.py write tests/NativeGan.Tests/TestData/torch-dcgan-step.safetensors
               and tests/NativeGan.Tests/Training/DcganStepTests.cs replays the step with DcganJob.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch, torch 1.13). The safetensors writer is
tools/torch_interop.py's (hand-written, byte for byte what safetensors.torch.save_file writes).
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/benchmarks/reference")
from torch_interop import save  # noqa: E402
from torch_reference import discriminator, generator, init_dcgan  # noqa: E402

LATENT, G_WIDTH, D_WIDTH, SIDE, BATCH = 10, 8, 8, 32, 4
LR, BETAS = 2e-4, (0.5, 0.999)


def state(prefix, module):
    """The state dict under NativeGan's names: prefix + PyTorch's name; num_batches_tracked as float32."""
    return {prefix + k: (v.float() if k.endswith("num_batches_tracked") else v).detach().clone()
            for k, v in module.state_dict().items()}


def grads(prefix, module):
    return {prefix + k: p.grad.detach().clone() for k, p in module.named_parameters()}


def write(path):
    torch.manual_seed(11)
    g = generator(latent=LATENT, width=G_WIDTH, channels=1, side=SIDE)
    d = discriminator(width=D_WIDTH, channels=1, side=SIDE, norm="batch")
    init_dcgan(g)
    init_dcgan(d)
    g.train()
    d.train()
    out = {**state("generator.", g), **state("discriminator.", d)}

    real = torch.rand(BATCH, 1, SIDE, SIDE) * 2 - 1
    z = torch.randn(BATCH, LATENT, 1, 1)
    out["real"], out["z"] = real, z

    opt_g = torch.optim.Adam(g.parameters(), LR, BETAS)
    opt_d = torch.optim.Adam(d.parameters(), LR, BETAS)
    ones, zeros = torch.ones(BATCH, 1, 1, 1), torch.zeros(BATCH, 1, 1, 1)

    # DcganJob.Step: one generator forward; its fakes serve both updates.
    fake = g(z)
    loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    out.update(grads("grad_d.discriminator.", d))
    opt_d.step()

    loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    out.update(grads("grad_g.generator.", g))
    opt_g.step()
    opt_d.zero_grad(set_to_none=True)  # loss_g reached D's weights too: not an update for D

    out["loss_d"], out["loss_g"] = loss_d.detach(), loss_g.detach()
    out.update(state("after.generator.", g))
    out.update(state("after.discriminator.", d))
    config = {"latent": str(LATENT), "g_width": str(G_WIDTH), "d_width": str(D_WIDTH), "image": f"1,{SIDE},{SIDE}",
              "lr": str(LR), "beta1": str(BETAS[0]), "beta2": str(BETAS[1])}
    save(path, out, {"written_by": f"torch {torch.__version__}", **config})
    print(f"wrote {path}: {len(out)} tensors; loss_d {loss_d.item():.6f}, loss_g {loss_g.item():.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
