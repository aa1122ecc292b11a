"""Run by test_distributed.py under ``mpirun -np N``: trains a model with
``autoencoders.distributed.fit`` and writes what the test compares.

    mpi_worker.py SPEC.json DATA.npy OUT_DIR EPOCHS BATCH [--nan-rank R] [--spec-rank1 OTHER.json] [--local 1]

With --local 1 each rank passes only its own rows (data="local"): its half of every global batch.

Every rank saves its model as OUT_DIR/rank<R>.aem and rank 0 writes OUT_DIR/losses.json. A
DistributedError is printed as "rank R: DistributedError: ..." and exits with status 3.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import autoencoders as ae  # noqa: E402
from autoencoders import distributed  # noqa: E402


def main() -> int:
    spec_path, data_path, out_dir, epochs, batch = sys.argv[1:6]
    options = dict(zip(sys.argv[6::2], sys.argv[7::2]))
    me = distributed.rank()
    ae.set_num_threads(1)
    if me == 1 and "--spec-rank1" in options:
        spec_path = options["--spec-rank1"]
    model = ae.Autoencoder.from_spec(json.loads(Path(spec_path).read_text()), verbose=0)
    X = np.load(data_path)
    if options.get("--nan-rank") == str(me):
        X = X.copy()
        X.reshape(X.shape[0], -1)[int(batch) * me // distributed.size(), 0] = np.nan  # in this rank's first shard
    data = "global"
    if options.get("--local") == "1":
        share = int(batch) // distributed.size()
        steps = X.shape[0] // int(batch)
        X = np.concatenate([X[s * int(batch) + me * share:s * int(batch) + (me + 1) * share] for s in range(steps)])
        data = "local"
    try:
        losses = distributed.fit(model, X, epochs=int(epochs), batch_size=int(batch), data=data)
    except distributed.DistributedError as error:
        print(f"rank {me}: DistributedError: {error}", file=sys.stderr, flush=True)
        return 3
    model.save(str(Path(out_dir) / f"rank{me}.aem"))
    if me == 0:
        (Path(out_dir) / "losses.json").write_text(json.dumps(losses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
