"""The agents of the pipeline, their graph and the CLIs."""

import time as _time

# The moment the process started importing us (before langgraph and the rest): a run's wall time in
# its report is the whole process, start-up included.
PROCESS_STARTED = _time.time()
