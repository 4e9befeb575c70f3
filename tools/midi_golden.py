#!/usr/bin/env python3
"""What python3-mido (Debian, 1.2.10) reads in MIDI files, as a golden file for NativeGan's MIDI reader
(src/Gan/Music/MidiFiles.cs, through NAudio.Midi): an independent reader's counts to check ours against.

  /usr/bin/python3 tools/midi_golden.py OUT.json FILE.mid...

writes, per file (by file name): ticks_per_beat; the notes (a note-on of velocity > 0 that a note-off, or a note-on of
velocity 0, of its channel and pitch ends later in its track; paired first in, first out) on the drum channel (10) and
on the others; the note-ons never ended (not notes); the sums of the pitched notes' pitches and velocities (checksums
of every note); and the time in seconds, through the tempo map, at which the last note-off or note-on of velocity 0
comes (mido's merged playback order; the end of a song's last note).
tests/NativeGan.Tests/TestData/music/game-music.json was made by
  /usr/bin/python3 tools/midi_golden.py tests/NativeGan.Tests/TestData/music/game-music.json .cache/data/game-music/*/*.mid
after `nativegan data fetch game-music`; tests/NativeGan.Tests/Music/MidiFilesTests.cs compares.
"""
import json, os, sys
import mido

out, files = sys.argv[1], sys.argv[2:]
golden = {}
for path in sorted(files, key=os.path.basename):
    m = mido.MidiFile(path)
    drum = pitched = unpaired = pitch_sum = velocity_sum = 0
    for track in m.tracks:
        sounding = {}
        for msg in track:
            if msg.type == 'note_on' and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), []).append(msg.velocity)
            elif msg.type == 'note_off' or msg.type == 'note_on':
                started = sounding.get((msg.channel, msg.note))
                if not started:
                    continue
                velocity = started.pop(0)
                if msg.channel == 9:
                    drum += 1
                else:
                    pitched += 1
                    pitch_sum += msg.note
                    velocity_sum += velocity
        unpaired += sum(len(v) for v in sounding.values())
    clock = last_release = 0.0
    for msg in m:  # all tracks merged in time; msg.time is seconds since the previous message
        clock += msg.time
        if msg.type == 'note_off' or (msg.type == 'note_on' and msg.velocity == 0):
            last_release = clock
    golden[os.path.basename(path)] = {'ticks_per_beat': m.ticks_per_beat, 'drum_notes': drum, 'pitched_notes': pitched,
                                      'unpaired_note_ons': unpaired, 'pitch_sum': pitch_sum, 'velocity_sum': velocity_sum,
                                      'seconds': round(last_release, 6)}
with open(out, 'w') as f:
    json.dump(golden, f, indent=1, sort_keys=True)
print(f'{len(golden)} files -> {out}')
