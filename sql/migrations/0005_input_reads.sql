-- v5: what a run made of each of its inputs. A nightly leaves unchanged inputs standing and a --dept
-- run keeps one department's, so a run's findings are not the year's: the year's validation page is
-- drawn from each input's last read (sql/queries/year_inputs.sql). Rows written before this version
-- say nothing (NULL) and are taken as read.
alter table audit.run_inputs add column was_read boolean;
alter table audit.run_inputs add column ignored_sheets varchar[];
