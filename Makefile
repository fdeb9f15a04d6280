# The two commands of the README. Everything else lives in scripts/bootstrap.sh.
.PHONY: lab test setup

lab:
	@bash scripts/bootstrap.sh lab

test:
	@bash scripts/bootstrap.sh test

setup:
	@bash scripts/bootstrap.sh setup
