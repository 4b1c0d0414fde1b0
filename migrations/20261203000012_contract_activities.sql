-- A contract has its own timeline: activities may hang off a contract.
alter table activities add column contract_id uuid references contracts(id);
alter table activities drop constraint activities_check;
alter table activities add constraint activities_check
    check (account_id is not null or deal_id is not null or contract_id is not null);
create index activities_contract on activities (contract_id, occurred_at desc) where contract_id is not null;
