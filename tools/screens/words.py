"""Word lists and small phrase generators for the screenshot set (all made up here).

Every function takes a `random.Random`, so a picture's text depends only on its seed.
"""

FIRST = """Alice Ben Carla David Elena Farid Grace Hiro Isabel Jonas Kemi Liam Maya Noah Olga
Pedro Quinn Rosa Samir Tara Umar Vera Wen Xavier Yara Zoe Anna Bruno Chloe Diego Emma Felix
Greta Hugo Ines Jakub Kofi Lena Marco Nadia Oscar Priya Rafael Sofia Tomas Ursula Victor
Wanda Yusuf Amira Dmitri Fatima Jonah Keiko Lucia Mateo Nora Paolo Ruth Stefan Thea""".split()

LAST = """Anderson Baker Castillo Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Lopez
Moreau Nakamura Okafor Petrov Quinn Rossi Schmidt Tanaka Umarov Varga Weber Xu Young Zhang
Almeida Brennan Costa Duarte Evans Fontaine Gupta Horvat Ivanova Johansson Keller Lindqvist
Mendes Novak Olsen Park Ramos Santos Torres Novak Walsh Yilmaz Ziegler Murphy Hughes""".split()

CITIES = """Springfield Riverton Lakeside Oakford Millbrook Ashby Brookhaven Fairview Greenwood
Hillcrest Kingsport Linden Maplewood Northgate Pinecrest Redwood Shelby Westfield Clayton
Dunmore Eastwick Harbor Ironwood Marlow Newbury Oldham Preston Rockport Stanton Wexford""".split()

STREETS = """Maple Oak Cedar Elm Pine Willow Birch Station Church Market Mill River Park High
Bridge Garden Hill Lake Meadow Orchard Queen King Spring Union Victoria""".split()

STREET_KINDS = ["Street", "Road", "Avenue", "Lane", "Drive", "Way", "Court", "Place"]

COMPANY_A = """Blue North Bright Silver Green Red Summit Harbor Maple Granite Swift Polar Sunny
Cobalt Crimson Golden Iron Lunar Nova Orbit Pioneer Quartz River Solar Stone Vertex Willow
Apex Beacon Cedar Delta Echo Falcon Global Horizon Atlas Cascade""".split()
COMPANY_B = """Labs Systems Works Supply Partners Foods Logistics Software Studio Media Health
Energy Bank Insurance Motors Books Design Analytics Networks Foundation Group Outfitters
Bakery Hardware Travel Dental Press Garden Robotics""".split()

NOUNS = """account address agenda answer apple archive article backup balance bicycle board
book bottle budget building bus calendar camera card case chair chapter chart city client
clock cloud coffee committee community company computer contract course customer data
database date deadline delivery department design desk device document door draft email
engine event evening experiment farm field file film folder forecast form friend garden
goal group guide holiday hospital hotel house idea image invoice island issue item journey
kitchen lake language laptop lesson letter library light list machine manager map market
meeting member message method minute model month morning mountain museum network news
note number office order package page paper park partner password payment pencil phone
photo picture plan plant policy price printer problem product program project question
queue reason recipe record report request result river road room route sample schedule
school screen season server service session shop signal song source station story street
student study summer system table task team teacher test ticket time town train tree
update user valley version video village visitor voice week window winter word world
year""".split()

ADJS = """annual active bright busy careful central clear cold complete current daily dark
deep early easy empty final first fresh friendly full general good great green happy
heavy helpful important large late light local long main major modern monthly new next
normal old open personal plain popular private public quick quiet rapid rare recent
regular remote safe short simple slow small smart special strong sudden summer sunny
new total true usual warm weekly whole wide wild yellow""".split()

VERBS_PAST = """opened closed started finished moved changed checked built shared planned
reviewed updated approved delivered signed visited tested launched printed cleaned
repaired painted measured counted collected prepared announced reported received
sent described improved replaced designed ordered""".split()

VERBS = """open close start finish move change check build share plan review update approve
deliver sign visit test launch print clean repair paint measure count collect prepare
announce report receive send describe improve replace design order""".split()

ADVERBS = """quickly carefully early again today yesterday soon later finally slowly
together quietly clearly already recently""".split()

PLACES = """the station|the old library|the town hall|the river|the north side|the market square|
the harbor|the main office|the school|the museum|the park|the hospital|the community center|
the new bridge|the city center|the airport|the beach|the valley|the village|the stadium""".replace(
    "\n", "").split("|")

TOPICS = """Weather Sports Business Science Health Travel Technology Culture Politics Food
Music Books Education Environment Opinion Local World Markets Cars Homes""".split()

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
MON = [m[:3] for m in MONTHS]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DY = [d[:3] for d in DAYS]

FILE_EXT = ["pdf", "docx", "odt", "txt", "png", "jpg", "csv", "xlsx", "ods", "zip", "mp3",
            "mp4", "py", "rs", "md", "html", "json", "svg", "tar.gz", "log"]


def plural(noun):
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def pick(rng, xs):
    return xs[rng.randrange(len(xs))]


def cap(s):
    return s[:1].upper() + s[1:]


def name(rng):
    return f"{pick(rng, FIRST)} {pick(rng, LAST)}"


def company(rng):
    return f"{pick(rng, COMPANY_A)} {pick(rng, COMPANY_B)}"


def email(rng, person=None):
    person = person or name(rng)
    f, l = person.split()[0].lower(), person.split()[-1].lower()
    dom = pick(rng, COMPANY_A).lower() + pick(rng, ["mail", "post", "net", "works", ""]) + \
        pick(rng, [".com", ".org", ".net", ".io", ".co.uk", ".de"])
    user = pick(rng, [f, f"{f}.{l}", f"{f[0]}{l}", f"{f}{rng.randrange(10, 99)}"])
    return f"{user}@{dom}"


def street_address(rng):
    return f"{rng.randrange(1, 240)} {pick(rng, STREETS)} {pick(rng, STREET_KINDS)}"


def city_line(rng):
    return f"{pick(rng, CITIES)} {rng.randrange(10000, 99999)}"


def date(rng, style=None):
    d, m, y = rng.randrange(1, 29), rng.randrange(12), rng.choice([2024, 2025, 2026, 2027])
    style = style if style is not None else rng.randrange(5)
    return [f"{d} {MONTHS[m]} {y}", f"{MONTHS[m]} {d}, {y}", f"{d:02d}/{m + 1:02d}/{y}",
            f"{y}-{m + 1:02d}-{d:02d}", f"{MON[m]} {d}, {y}"][style]


def time(rng):
    h, m = rng.randrange(0, 24), rng.randrange(0, 60)
    if rng.random() < 0.5:
        return f"{h:02d}:{m:02d}"
    return f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}"


def money(rng, lo=1, hi=500, cur=None):
    cur = cur or pick(rng, ["$", "$", "\u20ac", "\u00a3"])
    v = rng.uniform(lo, hi)
    return f"{cur}{v:,.2f}"


def noun_phrase(rng):
    r = rng.random()
    if r < 0.4:
        return f"the {pick(rng, NOUNS)}"
    if r < 0.75:
        return f"the {pick(rng, ADJS)} {pick(rng, NOUNS)}"
    adj = pick(rng, ADJS)
    return f"{'an' if adj[0] in 'aeiou' else 'a'} {adj} {pick(rng, NOUNS)}"


def sentence(rng):
    r = rng.randrange(9)
    if r == 0:
        s = f"{noun_phrase(rng)} was {pick(rng, VERBS_PAST)} {pick(rng, ADVERBS)}"
    elif r == 1:
        s = f"{pick(rng, FIRST)} {pick(rng, VERBS_PAST)} {noun_phrase(rng)} near {pick(rng, PLACES)}"
    elif r == 2:
        s = f"we will {pick(rng, VERBS)} {noun_phrase(rng)} before the end of {pick(rng, MONTHS)}"
    elif r == 3:
        s = (f"{noun_phrase(rng)} and {noun_phrase(rng)} are {pick(rng, ['now', 'still', 'often', 'not'])} "
             f"{pick(rng, ADJS)}")
    elif r == 4:
        s = (f"please {pick(rng, VERBS)} {noun_phrase(rng)} and {pick(rng, VERBS)} "
             f"{noun_phrase(rng)} by {pick(rng, DAYS)}")
    elif r == 5:
        s = (f"the {pick(rng, NOUNS)} team {pick(rng, VERBS_PAST)} {rng.randrange(2, 90)} "
             f"{plural(pick(rng, NOUNS))} last {pick(rng, ['week', 'month', 'year', 'summer', 'winter'])}")
    elif r == 6:
        s = (f"after {noun_phrase(rng)} {pick(rng, VERBS_PAST)}, {noun_phrase(rng)} "
             f"{pick(rng, ['became', 'looked', 'felt', 'seemed'])} {pick(rng, ADJS)}")
    elif r == 7:
        s = (f"most {plural(pick(rng, NOUNS))} in {pick(rng, CITIES)} are {pick(rng, ADJS)} and "
             f"{pick(rng, ADJS)} in {pick(rng, MONTHS)}")
    else:
        s = (f"{pick(rng, FIRST)} said that {noun_phrase(rng)} should be "
             f"{pick(rng, VERBS_PAST)} {pick(rng, ADVERBS)}")
    return cap(s) + pick(rng, [".", ".", ".", ".", "!", "?"] if r == 4 else ["."])


def paragraph(rng, lo=2, hi=5):
    return " ".join(sentence(rng) for _ in range(rng.randint(lo, hi)))


def title(rng, words=None):
    r = rng.randrange(6)
    if r == 0:
        s = f"{cap(pick(rng, ADJS))} {pick(rng, NOUNS)} {pick(rng, VERBS_PAST)} in {pick(rng, CITIES)}"
    elif r == 1:
        s = f"How the {pick(rng, NOUNS)} {pick(rng, VERBS_PAST)} the {pick(rng, NOUNS)}"
    elif r == 2:
        s = f"{pick(rng, CITIES)} plans {pick(rng, ADJS)} {pick(rng, NOUNS)} for {pick(rng, MONTHS)}"
    elif r == 3:
        s = f"{rng.randrange(3, 12)} {pick(rng, ADJS)} ideas for your {pick(rng, NOUNS)}"
    elif r == 4:
        s = f"{cap(pick(rng, NOUNS))} prices rise as {plural(pick(rng, NOUNS))} {pick(rng, VERBS_PAST)}"
    else:
        s = f"Why {plural(pick(rng, NOUNS))} are {pick(rng, ADJS)} again"
    return s


def heading(rng):
    return cap(pick(rng, [f"{pick(rng, ADJS)} {plural(pick(rng, NOUNS))}", f"the {pick(rng, NOUNS)}",
                          f"{pick(rng, NOUNS)} and {pick(rng, NOUNS)}", f"our {pick(rng, NOUNS)}",
                          f"{pick(rng, NOUNS)} {pick(rng, ['overview', 'results', 'summary', 'notes', 'plan'])}"]))


def subject(rng):
    r = rng.randrange(7)
    return [
        f"Re: {cap(pick(rng, NOUNS))} {pick(rng, ['update', 'review', 'plan', 'notes'])}",
        f"Your {pick(rng, NOUNS)} has been {pick(rng, VERBS_PAST)}",
        f"{cap(pick(rng, ADJS))} {pick(rng, NOUNS)} on {pick(rng, DAYS)}?",
        f"Invoice {rng.randrange(1000, 99999)} from {company(rng)}",
        f"Fwd: {title(rng)}",
        f"Reminder: {pick(rng, NOUNS)} {pick(rng, ['meeting', 'deadline', 'payment', 'appointment'])} {pick(rng, DAYS)}",
        f"{cap(pick(rng, NOUNS))} photos from {pick(rng, CITIES)}",
    ][r]


def filename(rng, ext=None):
    ext = ext or pick(rng, FILE_EXT)
    base = pick(rng, [f"{pick(rng, NOUNS)}_{pick(rng, NOUNS)}", f"{pick(rng, NOUNS)}-{rng.randrange(1, 99)}",
                      f"{cap(pick(rng, NOUNS))} {pick(rng, MONTHS)}", f"IMG_{rng.randrange(1000, 9999)}",
                      f"{pick(rng, NOUNS)}{rng.choice([2024, 2025, 2026])}", f"{pick(rng, ADJS)}_{pick(rng, NOUNS)}"])
    return f"{base}.{ext}"


def size(rng):
    v = rng.random()
    if v < 0.3:
        return f"{rng.randrange(1, 1000)} bytes" if rng.random() < 0.2 else f"{rng.randrange(1, 999)} KB"
    if v < 0.85:
        return f"{rng.uniform(1, 900):.1f} MB"
    return f"{rng.uniform(1, 9):.1f} GB"


def url(rng, path=True):
    host = pick(rng, ["www.", "", "news.", "shop.", "docs.", "mail."]) + \
        pick(rng, COMPANY_A).lower() + pick(rng, COMPANY_B).lower() + pick(rng, [".com", ".org", ".net", ".io", ".co.uk"])
    if not path:
        return host
    p = "/".join(pick(rng, NOUNS) for _ in range(rng.randrange(0, 3)))
    return host + ("/" + p if p else "")
