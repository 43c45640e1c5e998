# dashboard.mk - the dashboard's page, script and style are embedded in the
# binary by src/output/dashboard_assets.c (.incbin); rebuild it when they change.
DASHBOARD_ASSETS := $(wildcard src/output/dashboard/*)

$(OUT)/src/output/dashboard_assets.o: $(DASHBOARD_ASSETS)
