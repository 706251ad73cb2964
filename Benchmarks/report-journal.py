#!/usr/bin/env python3
"""Writes, in the journal export format, 30 days of andond entries for a 40-line plant (about 200,000 entries), for
`scripts/bench report`: pipe it into systemd-journal-remote to make journal files.

The entries have the fields andond writes (docs/journal.md), trusted fields as journald adds them, and plausible
timings: calls acknowledged after 20 s to 15 min, some escalated, some with an arrival, two stops per line a day.
Deterministic (seeded). Usage: report-journal.py [DAYS] [LINES] [START_EPOCH_SECONDS]
"""
import random
import sys
import uuid

days = int(sys.argv[1]) if len(sys.argv) > 1 else 30
lines = int(sys.argv[2]) if len(sys.argv) > 2 else 40
start = int(sys.argv[3]) if len(sys.argv) > 3 else 1793491200  # 2026-11-01 00:00 UTC
rng = random.Random(9)
boot = uuid.UUID(int=rng.getrandbits(128)).hex
machine = uuid.UUID(int=rng.getrandbits(128)).hex
categories = ["quality", "maintenance", "material", "help", "delivery", "safety", "cost"]
weights = [30, 25, 20, 12, 8, 3, 2]
ids = {
    "raised": "58476d10d29440bcaeb1cf5033ff779f",
    "escalated": "ac37a5b64e5348b79ef43c3463781c5a",
    "acknowledged": "46a2b6f0b3584c2b900bada52bfaaeac",
    "arrived": "a4fa4fb242aa487abbc3c467a98682e7",
    "resolved": "d3627a091b4149d789385bf6a0ff403a",
    "cleared": "7f17cd3cc4694398aabb1eace7226180",
    "resumed": "2c330e1b8c3744fdacde212bcda0bf6c",
}
out = sys.stdout
entries = []
number = 0


def shift_of(ms):
    # Europe/Berlin in November is UTC+1: a 05:00-13:00 UTC, b 13:00-21:00, c 21:00-05:00.
    hour = (ms // 3_600_000) % 24
    day = ms // 86_400_000 * 86_400_000
    if 5 <= hour < 13:
        return "a", day + 5 * 3_600_000, day + 13 * 3_600_000
    if 13 <= hour < 21:
        return "b", day + 13 * 3_600_000, day + 21 * 3_600_000
    if hour >= 21:
        return "c", day + 21 * 3_600_000, day + 29 * 3_600_000
    return "c", day - 3 * 3_600_000, day + 5 * 3_600_000


def entry(event, incident, kind, line, at, station=None, category=None, tier="team-leader", number_of="1/3",
          rota="team-leader", responders=("tl%d" % 1,), **extra):
    shift, shift_start, shift_end = shift_of(at)
    fields = {
        "MESSAGE": "%s %s on %s/%s: %s" % ((category or "Stop").capitalize(), kind, line, station or "-", event),
        "PRIORITY": "4" if event in ("raised", "escalated") else "5",
        "MESSAGE_ID": ids[event],
        "SYSLOG_IDENTIFIER": "andond",
        "ANDON_EVENT": event,
        "ANDON_INCIDENT": str(incident),
        "ANDON_KIND": kind,
        "ANDON_LINE": line,
        "ANDON_TIER": tier,
        "ANDON_TIER_NUMBER": number_of,
        "ANDON_ROTA": rota,
        "ANDON_POLICY": "andon" if kind == "andon" else "stop",
        "ANDON_AT_MS": str(at),
        "ANDON_SITE": "Bench plant",
        "ANDON_TIMEZONE": "Europe/Berlin",
        "ANDON_SHIFT": shift,
        "ANDON_SHIFT_START_MS": str(shift_start),
        "ANDON_SHIFT_END_MS": str(shift_end),
        "ANDON_EVENT_ID": "BENCH-%d" % len(entries),
    }
    if station:
        fields["ANDON_STATION"] = station
    if category:
        fields["ANDON_CATEGORY"] = category
    fields.update({key: str(value) for key, value in extra.items()})  # PRIORITY may be overridden
    entries.append((at, fields, list(responders)))


for day in range(days):
    for index in range(1, lines + 1):
        line = "B%d" % index
        base = (start + day * 86400) * 1000
        calls = rng.randint(41, 55)
        for _ in range(calls):
            number += 1
            raised = base + rng.randrange(86_400_000)
            station = "S%d" % rng.randint(1, 12)
            category = rng.choices(categories, weights)[0]
            user = "tl%d" % index
            entry("raised", number, "andon", line, raised, station, category, responders=[user],
                  ANDON_ELAPSED_MS=0, ANDON_CALL_STATE="open")
            ack = int(rng.lognormvariate(11.5, 1.0))  # median about 100 s
            at = raised
            if ack > 300_000 and rng.random() < 0.6:
                at = raised + 300_000
                entry("escalated", number, "andon", line, at, station, category, tier="group-leader",
                      number_of="2/3", rota="group-leader", responders=["gl%d" % ((index - 1) // 8 + 1)],
                      ANDON_ELAPSED_MS=300_000, ANDON_WAITED_MS=300_000, ANDON_CALL_STATE="open")
                if ack > 900_000:
                    entry("escalated", number, "andon", line, raised + 900_000, station, category, tier="kpo",
                          number_of="3/3", rota="kpo", responders=["kpo1"], ANDON_ELAPSED_MS=900_000,
                          ANDON_WAITED_MS=600_000, ANDON_CALL_STATE="open", PRIORITY=1)
            acked = raised + ack
            entry("acknowledged", number, "andon", line, acked, station, category, responders=[],
                  ANDON_BY=user, ANDON_ELAPSED_MS=ack, ANDON_ACK_MS=ack, ANDON_CALL_STATE="acknowledged")
            if rng.random() < 0.3:
                arrive = ack + rng.randint(30_000, 300_000)
                entry("arrived", number, "andon", line, raised + arrive, station, category, responders=[],
                      ANDON_BY=user, ANDON_ELAPSED_MS=arrive, ANDON_ACK_MS=ack, ANDON_ARRIVE_MS=arrive,
                      ANDON_CALL_STATE="arrived")
            resolve = ack + int(rng.lognormvariate(13.0, 0.8))
            entry("resolved", number, "andon", line, raised + resolve, station, category, responders=[],
                  ANDON_BY=user, ANDON_ELAPSED_MS=resolve, ANDON_ACK_MS=ack, ANDON_RESOLVE_MS=resolve,
                  ANDON_NOTE="countermeasure %d" % number)
        if (day * lines + index) % 97 == 0:
            # A flood: 14 calls within 8 minutes on this line.
            burst = base + rng.randrange(86_400_000 - 600_000)
            for call in range(14):
                number += 1
                at = burst + call * 34_000
                station = "S%d" % rng.randint(1, 12)
                entry("raised", number, "andon", line, at, station, "material", responders=["tl%d" % index],
                      ANDON_ELAPSED_MS=0, ANDON_CALL_STATE="open")
                entry("cleared", number, "andon", line, at + 1_200_000, station, "material", responders=[],
                      ANDON_ELAPSED_MS=1_200_000, ANDON_RESOLVE_MS=1_200_000)
        for _ in range(2):
            number += 1
            stopped = base + rng.randrange(86_400_000)
            reason = rng.choice(["conveyor", "power", "tooling", "no material"])
            length = rng.randint(60_000, 3_600_000)
            entry("raised", number, "stop", line, stopped, responders=["tl%d" % index], ANDON_REASON=reason,
                  ANDON_ELAPSED_MS=0)
            entry("resumed", number, "stop", line, stopped + length, responders=[], ANDON_WAITED_MS=length,
                  ANDON_ELAPSED_MS=length, ANDON_RESOLVE_MS=length)

entries.sort(key=lambda item: item[0])
monotonic = 1_000_000
for at, fields, responders in entries:
    monotonic += 1000
    out.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_MACHINE_ID=%s\n" %
              (at * 1000, monotonic, boot, machine))
    out.write("_HOSTNAME=bench\n_TRANSPORT=journal\n_PID=4242\n_UID=998\n_GID=998\n_COMM=andond\n"
              "_EXE=/usr/bin/andond\n_CMDLINE=/usr/bin/andond\n_SYSTEMD_UNIT=andond.service\n")
    for key, value in fields.items():
        out.write("%s=%s\n" % (key, value))
    for user in responders:
        out.write("ANDON_RESPONDER=%s\n" % user)
    out.write("\n")
sys.stderr.write("report-journal: %d entries, %d calls\n" % (len(entries), number))
