"""Small machines used to exercise the runtimes."""

from __future__ import annotations

from ccs2chademo.runtime import (
    CloseLink,
    DataReceived,
    Event,
    LinkDown,
    LinkUp,
    MachineBase,
    OpenLink,
    SendData,
)


class Ticker(MachineBase):
    """Ticks every ``period`` seconds; deadlines are computed as n × period (no drift)."""

    def __init__(self, name: str, period: float, log_ticks: bool = False) -> None:
        super().__init__(name, "running")
        self.period = period
        self.ticks = 0
        self.log_ticks = log_ticks
        self.fired_at: list[float] = []

    def receive(self, event: Event, now: float) -> None:
        pass

    def handle_timer(self, now: float) -> None:
        self.ticks += 1
        if self.log_ticks:
            self._log("tick", n=self.ticks)

    def get_timer(self) -> float:
        return self.ticks * self.period


class EchoServer(MachineBase):
    """Answers every line ``ping N`` with ``pong N`` (reassembling lines from the stream)."""

    def __init__(self, name: str = "server") -> None:
        super().__init__(name, "listening")
        self.buffer = b""

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self._enter("connected")
        elif isinstance(event, LinkDown):
            self._enter("listening", reason=event.reason)
        elif isinstance(event, DataReceived):
            self.buffer += event.data
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self._emit(SendData(event.link, line.replace(b"ping", b"pong") + b"\n"))

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None


class PingClient(MachineBase):
    """Connects, sends ``count`` pings one after the other, closes with FIN when done."""

    def __init__(self, target: object, count: int = 5, name: str = "client", timeout: float = 2.0) -> None:
        super().__init__(name, "idle")
        self.target = target
        self.count = count
        self.timeout = timeout
        self.sent = 0
        self.answers: list[bytes] = []
        self.buffer = b""
        self.deadline: float | None = 0.0

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self._enter("connected")
            self._ping(now)
        elif isinstance(event, LinkDown):
            self._enter("failed", reason=event.reason)
            self.deadline = None
        elif isinstance(event, DataReceived):
            self.buffer += event.data
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self.answers.append(line)
                if self.sent < self.count:
                    self._ping(now)
                else:
                    self._emit(CloseLink("tcp"))
                    self._enter("done")
                    self.deadline = None

    def _ping(self, now: float) -> None:
        self.sent += 1
        self._emit(SendData("tcp", b"ping %d\n" % self.sent))
        self.deadline = now + self.timeout

    def handle_timer(self, now: float) -> None:
        if self.state == "idle":
            self._emit(OpenLink("tcp", self.target))
            self._enter("connecting")
            self.deadline = now + self.timeout
        else:
            self._enter("failed", reason="timeout")
            self.deadline = None

    def get_timer(self) -> float | None:
        return self.deadline
