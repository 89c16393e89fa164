"""The simulated job seekers: grounded in the catalog's postings, exact and deterministic."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tests.simulate.catalogs import demo_records, demo_snapshot, small_snapshot
from vacrec.agent.skills import skill_text
from vacrec.catalog.text import tokenize
from vacrec.domain import SkillVocabulary
from vacrec.simulate.env import JobSeekerEnv
from vacrec.simulate.population import Seekers, clip_preference
from vacrec.simulate.taste import N_AGE_BANDS, OLDER_AGE, YOUNG_AGE, age_band
from vacrec.simulate.votes import expected_tanh_of_votes, up_probability

SKILLS = SkillVocabulary().skills
ART, GAMES, TATTOO, FINANCE, EMPTY = "Искусство", "ИТ, игры", "Салоны", "Финансы", "Пустая"
SMALL_ROWS = [
    ("a1", "Художник-живописец", "Живопись маслом на холсте, картины и портреты.", (ART,)),
    ("a2", "Реставратор", "Реставрация картин и икон в музее, консервация.", (ART,)),
    ("a3", "Декоратор сцены", "Роспись театральных декораций, сцена, краски.", (ART,)),
    ("a4", "Иллюстратор книг", "Иллюстрации детских книг, обложки, персонажи.", (ART, GAMES)),
    ("t1", "Тату-мастер", "Татуировка в салоне, эскизы тату, свой стиль.", (TATTOO,)),
    ("t2", "Мастер перманента", "Перманентный макияж в салоне красоты, брови.", (TATTOO,)),
    ("g1", "3D-художник", "3D моделирование в Blender, текстуры, модели для игры.", (GAMES,)),
    ("g2", "Геймдизайнер", "Игровой баланс, механики, локации мобильной игры.", (GAMES,)),
    ("f1", "Бухгалтер", "Учёт, отчётность, налоги, первичка.", (FINANCE,)),
    ("x1", "Водитель", "Доставка грузов по городу.", ()),
]
SMALL_ACTIONS = (ART, EMPTY, FINANCE, GAMES, TATTOO)  # EMPTY has no postings


def small_env(**kwargs) -> JobSeekerEnv:
    return JobSeekerEnv(small_snapshot(SMALL_ROWS, actions=SMALL_ACTIONS), SKILLS, **kwargs)


def row_of(env: JobSeekerEnv, vacancy_id: str) -> int:
    """The posting's number: its position in the index's ids."""
    return list(env.snapshot.index.ids).index(vacancy_id)


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_the_same_world_and_seekers_and_another_seed_another_taste():
    a = JobSeekerEnv(demo_snapshot(), SKILLS, seed=3)
    b = JobSeekerEnv(demo_snapshot(), SKILLS, seed=3)
    c = JobSeekerEnv(demo_snapshot(), SKILLS, seed=4)
    np.testing.assert_array_equal(a.taste.logits, b.taste.logits)
    assert not np.allclose(a.taste.logits, c.taste.logits)
    sa = a.sample_seekers(200, np.random.default_rng(9))
    sb = b.sample_seekers(200, np.random.default_rng(9))
    assert sa.preferences == sb.preferences
    np.testing.assert_array_equal(sa.wants, sb.wants)
    np.testing.assert_array_equal(a.expected_rewards(sa), b.expected_rewards(sb))
    other = a.sample_seekers(200, np.random.default_rng(10))
    assert other.preferences != sa.preferences


def _taste_digest() -> str:
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=5, taste="contradicting")
    return hashlib.sha256(env.taste.logits.tobytes()).hexdigest()


def test_the_taste_does_not_depend_on_pythons_string_hashing():
    script = (
        "from tests.simulate.test_env import _taste_digest; import json; "
        "print(json.dumps(_taste_digest()))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == _taste_digest()


# --- who the seekers are --------------------------------------------------------------------


def test_preferences_are_the_wanted_postings_title_or_a_few_of_its_own_words():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0)
    seekers = env.sample_seekers(1_000, np.random.default_rng(1))
    titles = 0
    for seeker in (seekers[i] for i in range(len(seekers))):
        card = env.snapshot.cards[str(env.snapshot.index.ids[seeker.wants])]
        if seeker.preference == clip_preference(card.name):
            titles += 1
            continue
        words = seeker.preference.split()
        description = tokenize(card.description)
        assert 2 <= len(words) <= 5, seeker.preference
        assert all(w in description for w in words), (seeker.preference, card.name)
        positions = [description.index(w) for w in words]
        assert positions == sorted(positions)  # in the order the description has them
        assert set(words) <= set(env.population.characteristic_words(seeker.wants))
    assert 0.42 < titles / len(seekers) < 0.58  # about half type the title
    assert min(seekers.ages) >= 14 and max(seekers.ages) <= 100
    assert 29 < seekers.ages.mean() < 35


def test_what_a_seeker_types_finds_the_posting_they_want():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0)
    seekers = env.sample_seekers(500, np.random.default_rng(2))
    shown = env.shown_postings(seekers)
    found = (shown == seekers.wants[:, None, None]).any(axis=(1, 2))
    assert found.mean() > 0.95


def test_characteristic_words_are_what_sets_a_posting_apart():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0)
    tattoo = env.population.characteristic_words(row_of(env, "demo-0044"))  # «Тату-мастер»
    assert {"тату", "татуировки", "чернила"} & set(tattoo)
    assert not {"мы", "и", "в", "работа"} & set(tattoo)  # no stop words


def test_the_skill_follows_from_the_wanted_posting():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0)
    skill = env.population.posting_skill
    assert SKILLS[skill[row_of(env, "demo-0144")]] == "3D-моделирование"  # 3D (Blender)
    assert SKILLS[skill[row_of(env, "demo-0044")]] == "татуировка"  # Тату-мастер
    assert SKILLS[skill[row_of(env, "demo-0050")]] == "каллиграфия"  # каллиграфия и леттеринг
    seekers = env.sample_seekers(3_000, np.random.default_rng(3))
    matched = skill[seekers.wants] >= 0
    assert matched.mean() > 0.9
    np.testing.assert_array_equal(seekers.skills[matched], skill[seekers.wants[matched]])
    # the skill's words match the wanted posting: it is among the skill's own best postings
    blender = seekers.wants == row_of(env, "demo-0144")
    assert blender.any() and (seekers.skills[blender] == SKILLS.index("3D-моделирование")).all()


def test_a_posting_no_skill_matches_gets_random_skills_and_one_without_industry_is_never_wanted():
    env = small_env()
    accountant, driver = row_of(env, "f1"), row_of(env, "x1")
    assert env.population.posting_skill[accountant] == -1
    seekers = env.sample_seekers(2_000, np.random.default_rng(4))
    assert driver not in set(seekers.wants.tolist())
    assert len(set(seekers.skills[seekers.wants == accountant].tolist())) >= 5
    tattoo = seekers.wants == row_of(env, "t1")
    assert tattoo.any() and (seekers.skills[tattoo] == SKILLS.index("татуировка")).all()


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_blank_share_is_the_share_of_seekers_who_type_nothing(share: float):
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0, blank_share=share)
    seekers = env.sample_seekers(2_000, np.random.default_rng(5))
    blank = np.array([p == "" for p in seekers.preferences])
    assert blank.mean() == pytest.approx(share, abs=0.04)
    if share == 1.0:  # their skill still comes from the posting they want
        skill = env.population.posting_skill[seekers.wants]
        matched = skill >= 0
        np.testing.assert_array_equal(seekers.skills[matched], skill[matched])
        assert np.isfinite(env.expected_rewards(seekers.take(range(50)))).all()


def test_seekers_take_and_index_agree():
    env = small_env()
    seekers = env.sample_seekers(10, np.random.default_rng(6))
    part = seekers.take([7, 2])
    assert len(part) == 2 and part[0] == seekers[7] and part[1] == seekers[2]
    again = Seekers.of([seekers[i] for i in range(len(seekers))])
    np.testing.assert_array_equal(again.ages, seekers.ages)
    np.testing.assert_array_equal(again.wants, seekers.wants)
    assert again.preferences == seekers.preferences


# --- how they vote ---------------------------------------------------------------------------


def _brute_force(p: np.ndarray, shown: np.ndarray, power: int = 1) -> float:
    """E[tanh(sum of votes) ** power] by enumerating every vote vector of the shown cards."""
    cards = np.flatnonzero(shown)
    total = 0.0
    for votes in itertools.product((-1, 1), repeat=len(cards)):
        chance = np.prod([p[c] if v == 1 else 1 - p[c] for c, v in zip(cards, votes, strict=True)])
        total += chance * np.tanh(sum(votes)) ** power
    return total


def test_expected_tanh_of_votes_equals_brute_force_enumeration():
    rng = np.random.default_rng(7)
    p = rng.random((40, 6))
    p[0] = [0.0, 1.0, 0.5, 0.5, 0.0, 1.0]
    shown = rng.random((40, 6)) < 0.7
    shown[1] = False  # nothing shown: reward 0
    shown[2] = True
    expected = expected_tanh_of_votes(p, shown)
    brute = [_brute_force(p[i], shown[i]) for i in range(len(p))]
    np.testing.assert_allclose(expected, brute, atol=1e-12)
    assert expected[1] == 0.0
    # all cards shown by default; one card: (2p − 1)·tanh(1)
    np.testing.assert_allclose(expected_tanh_of_votes(p[:, :1]), (2 * p[:, 0] - 1) * np.tanh(1))


@pytest.mark.parametrize("k", [3, 5])
def test_the_expectation_uses_exactly_the_cards_snapshot_top_k_returns(k: int):
    env = small_env(k=k, blank_share=0.3)
    seekers = env.sample_seekers(60, np.random.default_rng(8))
    expected = env.expected_rewards(seekers)
    shown = env.shown_postings(seekers)
    assert shown.shape == (60, len(SMALL_ACTIONS), k)
    for i in range(len(seekers)):
        seeker = seekers[i]
        for a, industry in enumerate(env.actions):
            ids = [vid for vid, _ in env.snapshot.top_k(industry, seeker.preference, k).items]
            assert [str(env.snapshot.index.ids[n]) for n in shown[i, a] if n >= 0] == ids
            if not ids:  # the industry has no postings: nothing shown, reward 0
                assert industry == EMPTY and expected[i, a] == 0.0
                continue
            assert len(ids) == min(k, {ART: 4, FINANCE: 1, GAMES: 3, TATTOO: 2}[industry])
            p = env.vote_probabilities(seeker, a, ids)
            if industry == TATTOO:  # two postings: two cards whatever k, closed form
                closed = np.tanh(2) * (p[0] * p[1] - (1 - p[0]) * (1 - p[1]))
                assert expected[i, a] == pytest.approx(closed, abs=1e-12)
            assert expected[i, a] == pytest.approx(_brute_force(p, np.ones(len(p), bool)))


def test_a_card_is_liked_by_its_cosine_to_the_wanted_posting_and_the_taste():
    env = small_env()
    seeker = env.sample_seekers(1, np.random.default_rng(0))[0]
    taste = env.taste.of(np.array([seeker.skill]), np.array([seeker.age]))[0]
    wanted = str(env.snapshot.index.ids[seeker.wants])
    unrelated = "f1" if wanted != "f1" else "a1"  # shares no word with the others
    for a in range(len(env.actions)):
        p = env.vote_probabilities(seeker, a, [wanted, unrelated])
        np.testing.assert_allclose(p, up_probability(np.array([1.0, 0.0]), taste[a]))
    # in between: the cosine of the two TF-IDF rows
    index = env.snapshot.index
    m = index.matrix.toarray()
    a1, a2 = row_of(env, "a1"), row_of(env, "a2")
    other = seeker.__class__(seeker.age, seeker.skill, seeker.preference, a1)
    cosine = float(m[a1] @ m[a2])  # one row per posting, by number
    assert 0.0 < cosine < 1.0
    np.testing.assert_allclose(
        env.vote_probabilities(other, 0, ["a2"]), up_probability(np.array([cosine]), taste[0])
    )


def test_sampled_votes_reward_converges_to_the_exact_expectation():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=1)
    seekers = env.sample_seekers(8, np.random.default_rng(11))
    expected = env.expected_rewards(seekers)
    rng = np.random.default_rng(12)
    draws = 150
    differences, variances = [], []
    for i in range(len(seekers)):
        seeker = seekers[i]
        for a in {int(expected[i].argmax()), int(expected[i].argmin()), i % len(env.actions)}:
            top = env.snapshot.top_k(env.actions[a], seeker.preference, 5)
            ids = [vid for vid, _ in top.items]
            rewards = [np.tanh(sum(env.votes(seeker, a, ids, rng))) for _ in range(draws)]
            # the exact spread of one reward, by enumeration
            p, shown = env.vote_probabilities(seeker, a, ids), np.ones(len(ids), bool)
            variance = _brute_force(p, shown, power=2) - expected[i, a] ** 2
            se = np.sqrt(max(variance, 1e-12) / draws)
            assert abs(np.mean(rewards) - expected[i, a]) < 4.5 * se
            differences.append(np.mean(rewards) - expected[i, a])
            variances.append(variance / draws)
    z = np.sum(differences) / np.sqrt(np.sum(variances))
    assert abs(z) < 4


# --- what makes an industry good ------------------------------------------------------------


def _wanted_industries(env: JobSeekerEnv, seekers: Seekers) -> list[list[int]]:
    """The action indices of each seeker's wanted posting, from the catalog's own records."""
    groups = {r.id: r.industries for r in demo_records()}
    return [
        [env.actions.index(g) for g in groups[str(env.snapshot.index.ids[n])]]
        for n in seekers.wants
    ]


def _words_pick(env: JobSeekerEnv, skills: np.ndarray) -> np.ndarray:
    """The industry whose postings best match each skill's own words (mean of the top five)."""
    index = env.snapshot.index
    column = {name: i for i, name in enumerate(index.industries)}
    best = []
    for skill in env.skills:
        top = index.match(skill_text(skill)).features()[:, 1]
        best.append(int(np.argmax([top[column[a]] for a in env.actions])))
    return np.asarray(best)[skills]


def test_independent_taste_the_wanted_postings_industry_beats_a_random_one_and_taste_counts():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=0, taste="independent")
    assert not env.taste.misleading.any()
    seekers = env.sample_seekers(2_000, np.random.default_rng(13))
    expected = env.expected_rewards(seekers)
    wanted = np.array(
        [expected[i, w].mean() for i, w in enumerate(_wanted_industries(env, seekers))]
    )
    assert wanted.mean() > expected.mean() + 0.2
    # the favourite of the seeker's nearer age anchor beats the others (blended in between)
    favourite = env.taste.favourite[seekers.skills, age_band(seekers.ages)]
    assert expected[favourite].mean() > expected[~favourite].mean() + 0.3
    assert (favourite.sum(axis=1) == 1).all()
    young, older = seekers.ages <= YOUNG_AGE, seekers.ages >= OLDER_AGE
    assert (
        expected[young][favourite[young]].mean() > expected[young][~favourite[young]].mean() + 0.5
    )
    assert older.sum() == 0 or expected[older][favourite[older]].mean() > expected.mean()
    # age matters: the favourites differ between the young and the older for most skills
    differs = [
        len({tuple(np.flatnonzero(env.taste.favourite[s, b])) for b in range(N_AGE_BANDS)}) > 1
        for s in range(len(SKILLS))
    ]
    assert np.mean(differs) > 0.6


def test_contradicting_taste_the_skills_words_point_to_the_wrong_industries():
    snapshot = demo_snapshot()
    honest = JobSeekerEnv(snapshot, SKILLS, seed=0, taste="independent")
    env = JobSeekerEnv(snapshot, SKILLS, seed=0, taste="contradicting")
    seekers = env.sample_seekers(2_000, np.random.default_rng(14))
    expected = env.expected_rewards(seekers)
    words = _words_pick(env, seekers.skills)
    rows = np.arange(len(seekers))
    assert (expected[rows, words] < expected.max(axis=1) - 1e-9).mean() > 0.9
    assert expected[rows, words].mean() < expected.mean()  # worse than random
    assert honest.expected_rewards(seekers)[rows, words].mean() > expected[rows, words].mean() + 0.2
    # the skill's best-matching industries are disliked; its favourites match it least
    index = snapshot.index
    column = {name: i for i, name in enumerate(index.industries)}
    n_actions = len(env.actions)
    for s, skill in enumerate(SKILLS):
        top = index.match(skill_text(skill)).features()[:, 1]
        score = np.array([top[column[a]] for a in env.actions])
        assert env.taste.misleading[s].sum() == 3
        assert score[env.taste.misleading[s]].min() >= np.sort(score)[-3] - 1e-12
        favourites = np.flatnonzero(env.taste.favourite[s].any(axis=0))
        assert (score[favourites] <= np.sort(score)[n_actions // 2 - 1] + 1e-12).all()


# --- Gymnasium API ----------------------------------------------------------------------------


def test_gymnasium_api_sessions_shown_cards_and_rewards():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=2)
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    assert obs == again
    assert env.observation_space.contains(obs)
    assert 14 <= obs["age"] <= 100 and 0 <= obs["skill"] < len(SKILLS) and obs["preference"]
    assert -1 <= info["oracle"] <= 1 and info["wants"] in env.snapshot.cards
    steps, terminated = 0, False
    while not terminated:
        action = steps % len(env.actions)
        obs2, reward, terminated, truncated, step_info = env.step(action)
        steps += 1
        assert obs2 == obs and not truncated
        top = env.snapshot.top_k(env.actions[action], obs["preference"], env.k)
        assert step_info["shown"] == [vid for vid, _ in top.items]
        assert len(step_info["votes"]) == len(step_info["shown"])
        assert reward == pytest.approx(np.tanh(sum(step_info["votes"])))
    assert 1 <= steps <= 3
    with pytest.raises(RuntimeError):
        env.step(0)


def test_an_industry_without_postings_shows_nothing_and_earns_nothing():
    env = small_env()
    empty = env.actions.index(EMPTY)
    env.reset(seed=1)
    _, reward, _, _, info = env.step(empty)
    assert info["shown"] == [] and info["votes"] == [] and reward == 0.0


# --- what the service could know at best ----------------------------------------------------


TWINS = (
    ("a5", "Иллюстратор книг", "Иллюстрации детских книг, раскраски, персонажи.", (ART,)),
    ("a6", "детских книг", "Иллюстрации для детских книг и раскраски.", (ART,)),
)
"""a5 has a4's title and some of its words; a6's title is two words the others' descriptions
have: one text can be a title for one seeker and a description for another."""


@pytest.mark.parametrize("blank_share", [0.0, 0.3])
def test_the_posterior_over_wanted_postings_matches_how_seekers_are_drawn(blank_share: float):
    """For every visible trait many seekers share, the posterior equals the observed
    frequencies of what those seekers wanted, and it always holds the truth."""
    snapshot = small_snapshot([*SMALL_ROWS, *TWINS], actions=SMALL_ACTIONS)
    env = JobSeekerEnv(snapshot, SKILLS, seed=1, blank_share=blank_share)
    seekers = env.sample_seekers(80_000, np.random.default_rng(5))
    groups: dict[tuple[str, int], list[int]] = {}
    for i in range(len(seekers)):
        groups.setdefault((seekers.preferences[i], int(seekers.skills[i])), []).append(i)
    ambiguous = 0
    for (text, skill), rows in groups.items():
        numbers, probs = env.population.posterior(text, skill)
        assert probs.sum() == pytest.approx(1.0)
        assert set(seekers.wants[rows]) <= set(numbers.tolist())
        if len(rows) < 300:
            continue
        observed = np.bincount(seekers.wants[rows], minlength=len(env.postings.ids))
        five_sigma = 5 * np.sqrt(probs * (1 - probs) / len(rows)) + 1e-3
        assert np.all(np.abs(observed[numbers] / len(rows) - probs) <= five_sigma), text
        ambiguous += len(numbers) > 1
    assert ambiguous  # traits that leave more than one posting possible were checked


def test_the_observable_oracle_sits_between_the_words_alone_and_the_oracle():
    env = JobSeekerEnv(demo_snapshot(), SKILLS, seed=2, taste="contradicting")
    seekers = env.sample_seekers(1_500, np.random.default_rng(8))
    expected = env.expected_rewards(seekers)
    rows = np.arange(len(seekers))
    observable = expected[rows, env.observable_oracle_choice(seekers)].mean()
    words_only = expected[rows, _words_pick(env, seekers.skills)].mean()
    assert words_only < observable <= expected.max(axis=1).mean() + 1e-12
    # A seeker whose words leave one posting possible is served exactly as by the oracle.
    unique = [
        i
        for i in rows
        if len(env.population.posterior(seekers.preferences[i], int(seekers.skills[i]))[0]) == 1
    ]
    assert unique
    chosen = env.observable_oracle_choice(seekers.take(unique))
    np.testing.assert_allclose(
        expected[unique, chosen], expected[unique].max(axis=1), rtol=0, atol=1e-12
    )
