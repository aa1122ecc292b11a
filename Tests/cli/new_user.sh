# What a new user hits first (issue 9, item 7), sourced by Tests/cli/run.sh after the main tests:
# it uses run.sh's helpers (run, check, assert, ok, fail), $BIN, $T, $SPEC and $MODEL (a BCE model
# trained with --divide-by 255 on $T/x.npy, uint8 pixels).

# ---- BCE refuses targets outside [0, 1] -----------------------------------------------------
rm -f "$T/raw.aem"
run train --spec "$SPEC" --data "$T/x.npy" --out "$T/raw.aem" --epochs 1
check "BCE on raw pixels (no --divide-by): exit 1" 1 "needs targets in [0, 1]"
assert "BCE on raw pixels: the message names the data, the element and the fix" \
    grep -qE "data: element [0-9]+ \(sample [0-9]+, feature [0-9]+\) is [0-9.]+; the bce loss needs targets in \[0, 1\].*--divide-by 255" "$T/err"
assert "BCE on raw pixels: no model file written" test ! -e "$T/raw.aem"
python3 -c "
import numpy as np
x = np.load('$T/x.npy')[:50].astype(np.float32); x[7, 3, 4] = 300   # raw pixels, one beyond 255
np.save('$T/over.npy', x)"
run train --spec "$SPEC" --data "$T/x.npy" --validation "$T/over.npy" --divide-by 255 --out "$T/raw.aem" --epochs 1
check "BCE: validation data beyond [0, 1] after the model's scaling: exit 1" 1 "validation data: element 5576 (sample 7, feature 88)"
assert "BCE: the validation message gives the scaled value" grep -qF "after the model's input scaling" "$T/err"
cp "$MODEL" "$T/resume_before.aem"
run train --resume "$MODEL" --data "$T/over.npy" --out "$MODEL" --epochs 1
check "BCE: resuming on data beyond [0, 1] after its scaling fails: exit 1" 1 "data: element 5576 (sample 7, feature 88) is 300.0 after the model's input scaling"
assert "BCE: a failed resume leaves the model file untouched" cmp -s "$MODEL" "$T/resume_before.aem"

# ---- outputs by extension: .npy, .csv, .tsv, anything else refused -----------------------------
run score --model "$MODEL" --data "$T/x.npy" --out "$T/scores.csv"
check "score --out scores.csv" 0
assert "score --out .csv: a real CSV file, one score per line, the .npy's values" python3 -c "
import numpy as np
text = open('$T/scores.csv').read(); assert not text.startswith('\x93NUMPY') and text.count('\n') == 500, text[:50]
c = np.loadtxt('$T/scores.csv', delimiter=','); s = np.load('$T/scores.npy')
assert c.shape == (500,) and np.array_equal(c.astype(np.float32), s)"
run reconstruct --model "$MODEL" --data "$T/x.npy" --out "$T/xhat.tsv"
check "reconstruct --out xhat.tsv" 0
assert "reconstruct --out .tsv: 500 rows of 784 tab-separated values (samples flattened), exact float32" python3 -c "
import numpy as np
c = np.loadtxt('$T/xhat.tsv', delimiter='\t', dtype=np.float32); r = np.load('$T/xhat.npy')
assert c.shape == (500, 784) and np.array_equal(c, r.reshape(500, 784))"
for bad in scores.txt scores scores.npz; do
    rm -f "$T/$bad"
    run score --model "$MODEL" --data "$T/x.npy" --out "$T/$bad"
    check "score --out $bad: refused (exit 2), naming the accepted extensions" 2 ".npy, .csv or .tsv"
    assert "score --out $bad: nothing written" test ! -e "$T/$bad"
done

# ---- segment writes integer labels, as the Python API does (int32) ------------------------------
if [ -s "$T/seg.aem" ]; then
    run segment --model "$T/seg.aem" --data "$T/x300.npy" --out "$T/seg_int.npy"
    check "segment" 0
    assert "segment: labels are int32, as ae.Segmenter.predict returns them" python3 -c "
import numpy as np
l = np.load('$T/seg_int.npy'); assert l.dtype == np.int32 and l.shape == (300, 28, 28), (l.dtype, l.shape)
assert set(np.unique(l)) <= {0, 1}"
    run segment --model "$T/seg.aem" --data "$T/x300.npy" --out "$T/seg_int.csv"
    check "segment --out .csv" 0
    assert "segment --out .csv: whole numbers, one sample per line" python3 -c "
import numpy as np
lines = open('$T/seg_int.csv').read().splitlines(); assert len(lines) == 300 and '.' not in lines[0]
assert np.array_equal(np.loadtxt('$T/seg_int.csv', delimiter=',', dtype=np.int32), np.load('$T/seg_int.npy').reshape(300, -1))"
fi

# ---- inspect FILE and help COMMAND ----------------------------------------------------------
run inspect --model "$MODEL"; cp "$T/out" "$T/inspect_option.txt"
run inspect "$MODEL"
check "inspect FILE (positional)" 0
assert "inspect FILE: the same as inspect --model FILE" cmp -s "$T/out" "$T/inspect_option.txt"
run inspect "$MODEL" --json
check "inspect FILE --json" 0
run inspect "$MODEL" --model "$MODEL"
check "inspect FILE --model FILE: refused" 2 "--model"
run inspect
check "inspect without a file: exit 2" 2 "--model"
run help train
check "help train" 0
assert "help train: the train command's usage" grep -q "^Usage: autoencoders train" "$T/out"
run help inspect
assert "help inspect: shows the positional form" grep -qF "Usage: autoencoders inspect MODEL.aem" "$T/out"
run help
check "help: lists the commands" 0
assert "help: every command listed" bash -c "for c in train encode decode reconstruct score segment generate interpolate threshold predict inspect version help; do grep -qE \"^  \$c \" '$T/out' || exit 1; done"
run help frobnicate
check "help with an unknown command: exit 2" 2 "unknown command 'frobnicate'"

# ---- Ctrl-C and the progress display, on a pseudo-terminal --------------------------------------
# A Python helper drives the tool on a pty: it waits (bounded) for what the tool prints, types
# Ctrl-C (the terminal sends SIGINT), and reports what it saw. No assertion depends on timing.
cat >"$T/pty_run.py" <<'PY'
import os, pty, select, sys, time
def drive(argv, interrupts_after=None, interrupts=1, limit=300):
    """Runs argv on a pty; after `interrupts_after` (a bytes marker) is seen, types Ctrl-C
    `interrupts` times. Returns (exit status, everything printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    seen, sent, deadline = b"", 0, time.time() + limit
    while time.time() < deadline:
        if interrupts_after is not None and sent < interrupts and interrupts_after in seen:
            os.write(fd, b"\x03" * interrupts); sent = interrupts
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk: break
            seen += chunk
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, seen
if __name__ == "__main__":
    after = sys.argv[2].encode() if sys.argv[2] else None
    code, seen = drive(sys.argv[4:], after, int(sys.argv[3]))
    open(sys.argv[1], "wb").write(seen)
    print(code)
PY

# Progress on a terminal: a permanent line per finished epoch, a live bar for the current one.
status=$(python3 "$T/pty_run.py" "$T/tty2" "" 0 "$BIN" train --resume "$MODEL" --data "$T/x.npy" --out "$T/tty2.aem" --epochs 3 --batch-size 16)
cp "$T/tty2" "$T/err"
assert "progress (terminal): exit 0" test "$status" = 0
assert "progress (terminal): one permanent line per epoch, the loss history stays" python3 -c "
import re
text = open('$T/tty2', 'rb').read().decode()
lines = [l.split('\r')[-1] for l in text.replace('\r\n', '\n').split('\n')]
epochs = [l for l in lines if re.match(r'^epoch [1-3]/3 loss [0-9.]+ lr 0.001 time [0-9.]+s\x1b\[K$', l)]
assert len(epochs) == 3, lines[:6]
# The live bar of the current epoch: drawn at each epoch's first batch (later redraws depend on timing).
assert re.search(r'epoch [1-3]/3 \[[#-]+\] +[0-9]+%', text), text[:400]
assert 'epochs    3 of 3 (completed)' in text"

# Ctrl-C: stops after the current batch, saves what was trained, says so; exit 130.
rm -f "$T/int.aem"
status=$(python3 "$T/pty_run.py" "$T/tty_int" "epoch 1/" 1 "$BIN" train --spec "$SPEC" --data "$T/x.npy" --divide-by 255 --out "$T/int.aem" --epochs 100000 --batch-size 16)
cp "$T/tty_int" "$T/err"
assert "Ctrl-C during train: exit 130" test "$status" = 130
assert "Ctrl-C during train: says it stopped and saved" grep -qE "interrupted in epoch [0-9]+ after batch [0-9]+ of [0-9]+: saved the model as trained so far \([0-9]+ epochs and [0-9]+ batches\) to $T/int.aem" "$T/tty_int"
assert "Ctrl-C during train: the terminal line is clean (the bar erased before the message)" python3 -c "
text = open('$T/tty_int', 'rb').read().decode()
line = [l for l in text.replace('\r\n', '\n').split('\n') if 'interrupted in epoch' in l][0]
assert line.split('\r')[-1].lstrip('\x1b[K^C').startswith('autoencoders: interrupted'), repr(line)"
run inspect "$T/int.aem"
check "Ctrl-C during train: the saved model loads" 0

# A second Ctrl-C exits at once (130) without saving, unless the save had already finished.
rm -f "$T/int2.aem"
status=$(python3 "$T/pty_run.py" "$T/tty_int2" "epoch 1/" 2 "$BIN" train --spec "$SPEC" --data "$T/x.npy" --divide-by 255 --out "$T/int2.aem" --epochs 100000 --batch-size 16)
cp "$T/tty_int2" "$T/err"
assert "Ctrl-C twice: exit 130" test "$status" = 130
if [ -e "$T/int2.aem" ]; then
    run inspect "$T/int2.aem"; check "Ctrl-C twice (the first had already saved): the model loads" 0
else
    assert "Ctrl-C twice: exits at once, saying nothing was saved" grep -qF "interrupted again: exiting without saving" "$T/tty_int2"
fi

# SIGINT without a terminal (lines style): the same stop, save and message, no escape codes.
rm -f "$T/int3.aem"
"$BIN" train --spec "$SPEC" --data "$T/x.npy" --divide-by 255 --out "$T/int3.aem" --epochs 100000 --batch-size 16 >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 600); do grep -q "^epoch 1/" "$T/err" && break; sleep 0.5; done
kill -INT "$pid"; wait "$pid"; rc=$?
check "SIGINT without a terminal: exit 130, saved" 130 "saved the model as trained so far"
assert "SIGINT without a terminal: plain lines only" test "$(tr -cd '\r\033' <"$T/err" | wc -c)" -eq 0
assert "SIGINT without a terminal: the summary says interrupted" grep -qE '^epochs +[0-9]+ of 100000 \(interrupted\)' "$T/out"
run inspect "$T/int3.aem"
check "SIGINT without a terminal: the saved model loads" 0
