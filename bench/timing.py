"""Time several cases interleaved, round by round, in this process."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one case, in seconds, one per round; with ``interleaved``, also
    the process's CPU time (all threads) per round, which other load on the machine
    disturbs less than wall time."""

    samples: tuple[float, ...]
    cpu_samples: tuple[float, ...] = ()

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median_ms(self) -> float:
        return self.median * 1e3

    @property
    def min_ms(self) -> float:
        return self.min * 1e3

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_samples)


class AgainstFloor:
    """A subject timed against its floor in the same rounds: their ratios. Mixed into a
    benchmark's frozen dataclass that has ``subject`` and ``floor`` fields."""

    subject: Timing
    floor: Timing

    @property
    def ratio(self) -> float:
        return self.subject.median / self.floor.median

    @property
    def min_ratio(self) -> float:
        return self.subject.min / self.floor.min

    @property
    def cpu_ratio(self) -> float:
        return self.subject.cpu_median / self.floor.cpu_median


def time_once(case: Callable[[], object]) -> float:
    """Seconds one call of ``case`` takes, garbage collected first and GC off while timed."""
    return _wall_and_cpu(case)[0]


def _wall_and_cpu(case: Callable[[], object]) -> tuple[float, float]:
    """Wall and process CPU seconds of one call, garbage collected first and GC off while
    timed."""
    gc.collect()
    gc.disable()
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        case()
        return time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        gc.enable()


def interleaved(
    cases: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 1
) -> dict[str, Timing]:
    """Run every case once per round, rotating the order each round; return their timings.

    The warm-up rounds are run and thrown away. Rotating the order keeps any cost of
    running first or last (cache state, allocator state) from landing on one case only.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    cpu_samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, cpu = _wall_and_cpu(cases[name])
            if index >= warmup:
                samples[name].append(elapsed)
                cpu_samples[name].append(cpu)
    return {name: Timing(tuple(samples[name]), tuple(cpu_samples[name])) for name in names}
