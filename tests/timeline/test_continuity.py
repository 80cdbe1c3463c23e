"""Continuity: a re-run's segments are matched to the previous run's (customer overlap with the Hungarian
assignment when ids match, else centre distance), so a group that stays keeps its number, colour and name; new and
vanished segments are marked; scoring answers with the kept numbers."""

import numpy as np
import pytest
from timeline_data import month

from segments.engine.continuity import match_segments


def _profiles(numbers, names=None, centres=None):
    return [
        {
            "segment": s,
            "name": (names or {}).get(s, f"Group {s}"),
            "stats": {"spend": {"mean": (centres or {}).get(s, float(s))}},
        }
        for s in numbers
    ]


def test_overlap_keeps_numbers_through_a_permutation_of_labels():
    ids = [f"c{i}" for i in range(300)]
    before = np.repeat([0, 1, 2], 100)
    relabel = {0: 2, 1: 0, 2: 1}  # the clustering numbered the same groups differently this time
    after = np.array([relabel[s] for s in before])
    after[:5] = 0  # a few customers of group 0 moved (to what is now labelled 0, i.e. old group 1)
    match = match_segments(
        prev_profiles=_profiles([0, 1, 2], {0: "Loyal", 1: "Casual", 2: "Lapsed"}),
        new_profiles=_profiles([0, 1, 2]),
        prev_ids=ids,
        prev_segments=before,
        new_ids=ids,
        new_segments=after,
    )
    assert match.method == "overlap"
    assert match.mapping == {2: 0, 0: 1, 1: 2}
    assert match.status == {0: "continued", 1: "continued", 2: "continued"} and match.vanished == []
    assert match.previous_names == {0: "Loyal", 1: "Casual", 2: "Lapsed"}


def test_a_split_group_is_new_and_a_merged_group_vanishes():
    ids = [f"c{i}" for i in range(300)]
    before = np.repeat([0, 1, 2], 100)
    after = before.copy()
    after[200:] = 1  # group 2 merged into group 1 ...
    after[50:100] = 3  # ... and half of group 0 is a group of its own
    match = match_segments(
        prev_profiles=_profiles([0, 1, 2]),
        new_profiles=_profiles([0, 1, 3]),
        prev_ids=ids,
        prev_segments=before,
        new_ids=ids,
        new_segments=after,
    )
    assert match.mapping[0] == 0 and match.mapping[1] == 1
    assert match.status[0] == "continued" and match.status[1] == "continued"
    assert match.mapping[3] == 3 and match.status[3] == "new"
    assert match.vanished == [2]


def test_without_shared_ids_segments_are_matched_by_centre_distance():
    prev = _profiles([0, 1, 2], centres={0: 10.0, 1: 500.0, 2: 5000.0})
    new = _profiles([0, 1, 2, 3], centres={0: 4900.0, 1: 12.0, 2: 480.0, 3: 2000.0})
    match = match_segments(
        prev_profiles=prev,
        new_profiles=new,
        prev_ids=["a", "b"],
        prev_segments=[0, 1],
        new_ids=["x", "y"],
        new_segments=[0, 1],
    )
    assert match.method == "centres"
    assert match.mapping[0] == 2 and match.mapping[1] == 0 and match.mapping[2] == 1
    assert match.status[3] == "new" and match.vanished == []


@pytest.mark.django_db
def test_a_rerun_on_next_month_keeps_each_groups_number_and_name(months, upload_frame, add_version, first_run, rerun):
    from segments.engine import load_model, predict_segment
    from segsaas import storage

    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    add_version(dataset, month(second, seed=1))
    run2 = rerun(run1)

    def group_numbers(run, groups):
        frame = storage.read_parquet(run.customers_file, columns=["customer_id", "segment"])
        frame["group"] = frame["customer_id"].map(groups)
        numbers = frame.groupby("group")["segment"].agg(lambda s: s.mode().iloc[0]).to_dict()
        purity = frame.groupby("group")["segment"].agg(lambda s: (s == s.mode().iloc[0]).mean()).min()
        return numbers, purity

    before, purity1 = group_numbers(run1, first)
    after, purity2 = group_numbers(run2, second)
    assert purity1 == purity2 == 1.0
    assert before == after
    names1 = {p["segment"]: p["name"] for p in run1.profiles}
    names2 = {p["segment"]: p["name"] for p in run2.profiles}
    assert names1 == names2
    assert {p["continuity"] for p in run2.profiles} == {"continued"}
    assert run2.summary["continuity"]["previous_analysis"] == run1.pk
    assert run2.summary["continuity"]["method"] == "overlap"
    with storage.local_copy(run2.model_file) as path:
        model = load_model(path)
    high = month({"X": "high"}).drop(columns=["customer_id"]).iloc[0].to_dict()
    assert predict_segment(model, high)["segment"] == before["high"]
    assert predict_segment(model, high)["segment_name"] == names1[before["high"]]


@pytest.mark.django_db
def test_a_rerun_with_one_more_segment_marks_it_new_on_the_pages(
    months, upload_frame, add_version, first_run, people, client_for
):
    from jobs.services import job_execute
    from segments.models import Analysis
    from segments.services import analysis_create

    first, second, _ = months
    dataset = upload_frame(month(first))
    run1 = first_run(dataset)
    add_version(dataset, month(second, seed=1))
    queued = analysis_create(
        organization=people.acme,
        dataset=dataset,
        config={**run1.config, "n_clusters": 4},
        rerun_of=run1,
        created_by=people.alice,
    )
    assert job_execute(queued.job_id) == "succeeded"
    run2 = Analysis.objects.for_organization(people.acme).get(pk=queued.pk)
    statuses = sorted(p["continuity"] for p in run2.profiles)
    assert statuses == ["continued", "continued", "continued", "new"]
    new = next(p for p in run2.profiles if p["continuity"] == "new")
    assert new["segment"] == 3  # after the previous run's highest number
    client = client_for(people.vera, people.acme)
    assert client.get(f"/analyses/{run2.pk}/profiles/").content.decode().count('data-testid="new-segment"') == 1
    assert f"new: {new['name']}" in client.get(f"/analyses/{run2.pk}/changes/").content.decode()
