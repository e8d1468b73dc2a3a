"""Generators of made-up and transcribed data: synthetic districts (`jixiao synth`), the workbook writer, the
seed report's transcription. Outside `jixiao/`, so that the code version the ledger hashes does not move
when a generator does."""
