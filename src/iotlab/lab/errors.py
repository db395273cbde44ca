"""The one exception the lab raises: its message is a single line saying what is wrong and the fix."""


class LabError(RuntimeError):
    """A lab problem a user can fix; ``details`` holds extra lines such as a log tail."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
