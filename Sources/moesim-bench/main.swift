import SimCore

print("moesim-bench: subcommands arrive with the simulation core")
