"""exhorto: electronic mutual legal assistance between central authorities."""

from engine.ops.telemetry import switch_off as _switch_telemetry_off

# Before any dependency is imported or any subprocess started, whichever entry point (CLI, API, flows) runs.
_switch_telemetry_off()
