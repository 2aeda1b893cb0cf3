"""refnn must import, and train, on a machine without TensorFlow."""

import subprocess
import sys

CODE = """
import sys
sys.modules['tensorflow'] = None
sys.modules['keras'] = None
import numpy as np, refnn
from refnn import layers
m = refnn.Sequential([layers.Dense(3, activation='tanh'), layers.Dense(1)], input_dim=2, seed=0)
m.compile('sgd', 'mse')
m.fit(np.ones((4, 2)), np.zeros(4), epochs=1, verbose=0)
banned = [name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras', 'sklearn', 'matplotlib', 'keras_bridge', 'comparisons') and sys.modules[name] is not None]
assert not banned, banned
print('ok')
"""


def test_refnn_imports_with_numpy_only():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
