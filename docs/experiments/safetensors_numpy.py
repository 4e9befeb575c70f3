"""Reads a safetensors file into numpy arrays (float32 tensors only), for the numpy looks at checkpoints in docs/experiments/."""
import json, struct
import numpy as np

def load(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]], dtype=np.float32).reshape(v['shape'])
            for k, v in header.items() if k != '__metadata__' and v['dtype'] == 'F32'}
