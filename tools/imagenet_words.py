#!/usr/bin/env python3
"""Write assets/imagenet_words.tsv: the words a caption would use for each ImageNet class.

The encoder's ImageNet-1k head names 1,000 WordNet noun synsets (class ids such as n01592084
are WordNet 3.0 noun offsets). This script walks WordNet's hypernyms (read straight from
Debian's `wordnet-base` data files, no NLTK) to give every class:

  name      what to say plainly ("chickadee", "tabby cat", "espresso")
  article   "a" / "an" by sound, "" for mass nouns and plurals
  group     the basic-level word a caption would use ("bird", "cat", "coffee", "dog")
  words     acceptable caption words, specific to general ("chickadee|titmouse|...|bird")
  in_vocab  1 if the group word (or its plural) is in the caption model's vocabulary

Usage:
    python3 tools/imagenet_words.py [--wordnet /usr/share/wordnet]
        [--labels ../shared/data/imagenet-sample/labels.tsv]
        [--classes assets/imagenet_classes.txt] [--vocab assets/model/vocab.txt]
        [--out assets/imagenet_words.tsv] [--check N]

Only the labels file's class-index -> wnid column is used (the ILSVRC-2012 synset list); its
photos are never read. `tools/imagenet_eval.py` imports this module so that "names the object"
is judged with exactly the same words.

Judgment lives in the small tables below (CEILING, BASIC_LEVEL, ...), each entry with its
reason where it is not obvious; everything else comes from WordNet.
"""
import argparse
import collections
import os
import random
import re
import sys

WORDNET_DIR = "/usr/share/wordnet"

# --------------------------------------------------------------------------------------------
# Curated tables. Synsets are named as in NLTK ("dog.n.01" = sense 1 of "dog" in index.noun);
# a bare wnid ("n01514668") also works.
# --------------------------------------------------------------------------------------------

# Too general to name what is in a photo: the hypernym walk stops here (these and everything
# above are left out of a class's words). "A black and white animal" does not name a chickadee,
# nor "a device" an abacus. Superordinates such as vehicle, furniture, clothing, food, tool and
# musical instrument are here too: they are above the basic level, which is what "names the
# object" means. Bird, fish, insect, fruit, vegetable, flower, boat and building are NOT here:
# people use them for members whose own name they do not know.
CEILING = [
    # the top of the noun hierarchy
    "entity.n.01", "physical_entity.n.01", "abstraction.n.06", "object.n.01", "whole.n.02",
    "living_thing.n.01", "organism.n.01", "causal_agent.n.01", "person.n.01",
    "artifact.n.01", "matter.n.03", "substance.n.01", "substance.n.07", "part.n.01",
    "part.n.02", "relation.n.01", "natural_object.n.01", "attribute.n.02",
    "communication.n.02", "signal.n.01",
    # animals above the everyday level (taxonomic classes, orders and diet/habitat groupings)
    "animal.n.01", "chordate.n.01", "vertebrate.n.01", "invertebrate.n.01",
    "aquatic_vertebrate.n.01", "domestic_animal.n.01", "game.n.04",
    "mammal.n.01", "placental.n.01", "carnivore.n.01", "aquatic_mammal.n.01",
    "ungulate.n.01", "even-toed_ungulate.n.01", "odd-toed_ungulate.n.01", "ruminant.n.01",
    "bovid.n.01", "equine.n.01", "canine.n.02", "feline.n.01", "primate.n.02", "rodent.n.01",
    "marsupial.n.01", "metatherian.n.01", "monotreme.n.01", "prototherian.n.01",
    "reptile.n.01", "diapsid.n.01", "anapsid.n.01", "amphibian.n.03",
    "arthropod.n.01", "arachnid.n.01", "crustacean.n.01", "mollusk.n.01",
    "coelenterate.n.01", "echinoderm.n.01",
    # things: superordinates and bookkeeping categories
    "instrumentality.n.03", "device.n.01", "apparel.n.01", "plate.n.14", "container.n.01",
    "covering.n.02",
    "protective_covering.n.01", "commodity.n.01", "consumer_goods.n.01", "durables.n.01",
    "conveyance.n.03", "vehicle.n.01", "wheeled_vehicle.n.01", "self-propelled_vehicle.n.01",
    "motor_vehicle.n.01", "military_vehicle.n.01", "tracked_vehicle.n.01",
    "public_transport.n.01", "craft.n.02", "vessel.n.02", "vessel.n.03",
    "structure.n.01", "equipment.n.01", "implement.n.01", "instrument.n.01",
    "mechanism.n.05", "mechanical_device.n.01", "machine.n.01", "machine.n.04", "system.n.01",
    "establishment.n.04", "place_of_business.n.01", "mercantile_establishment.n.01",
    "furnishing.n.02", "furniture.n.01", "clothing.n.01", "garment.n.01", "attire.n.01",
    "restraint.n.06", "fastener.n.02", "electronic_equipment.n.01", "electrical_device.n.01",
    "electronic_device.n.01", "peripheral.n.01",
    "ware.n.01", "article.n.02", "tableware.n.01", "crockery.n.01", "appliance.n.02",
    "home_appliance.n.01", "utensil.n.01", "kitchen_utensil.n.01", "piece.n.01",
    "piece_of_cloth.n.01", "fabric.n.01", "toiletry.n.01", "decoration.n.01",
    "adornment.n.01", "support.n.10", "supporting_structure.n.01", "barrier.n.01",
    "obstruction.n.01", "housing.n.01", "tool.n.01", "hand_tool.n.01", "weapon.n.01",
    "musical_instrument.n.01", "measuring_instrument.n.01", "sports_equipment.n.01",
    "game_equipment.n.01", "plaything.n.01", "medium.n.01", "creation.n.02", "product.n.02",
    "work.n.02",
    # food, plants and places
    "food.n.01", "food.n.02", "solid.n.01", "foodstuff.n.02", "nutriment.n.01", "fluid.n.01",
    "liquid.n.01", "beverage.n.01", "alcohol.n.01", "drug.n.01", "agent.n.03",
    "drug_of_abuse.n.01", "produce.n.01",
    "ingredient.n.03", "flavorer.n.01", "starches.n.01", "course.n.07", "dish.n.02",
    "plant_part.n.01", "plant_organ.n.01", "reproductive_structure.n.01",
    "geological_formation.n.01", "natural_elevation.n.01", "plant.n.02",
    "vascular_plant.n.01", "spermatophyte.n.01", "angiosperm.n.01",
    # bookkeeping categories that only add words with another everyday sense ("area",
    # "surface", "point", "sheet", "medicine", "material", "gear")
    "geographic_point.n.01", "location.n.01", "area.n.05", "horizontal_surface.n.01",
    "surface.n.01", "sheet.n.06", "round_shape.n.01", "material.n.01", "medicine.n.02",
    "connection.n.03", "gear.n.04", "footwear.n.01", "footwear.n.02", "excavation.n.03",
]

# Basic-level synsets (or single classes), each with the group word a caption would use. A
# class's group is the nearest of these among itself and its hypernyms. Where the basic-level
# name is not in the caption vocabulary but a correct everyday word above it is (an owl, a
# shark, an ant), that word is used instead, so the caption model can say it: an owl is "bird"
# (the name column still says "great grey owl"). Where no correct vocabulary word exists (a
# zebra is not a horse, a wolf is not a dog, a lynx is not a house cat) the class keeps its
# own name.
BASIC_LEVEL = {
    # --- animals ---
    "fish.n.01": "fish", "bird.n.01": "bird", "duck.n.01": "duck", "swan.n.01": "swan",
    "pelican.n.01": "pelican",
    "cock.n.05": "chicken", "hen.n.02": "chicken",  # WordNet puts both straight under bird
    "salamander.n.01": "salamander", "frog.n.01": "frog", "turtle.n.02": "turtle",
    "lizard.n.01": "lizard", "crocodile.n.01": "crocodile", "alligator.n.02": "alligator",
    "dinosaur.n.01": "dinosaur", "snake.n.01": "snake", "spider.n.01": "spider",
    "kangaroo.n.01": "kangaroo", "coral.n.04": "coral", "worm.n.01": "worm",
    "crab.n.01": "crab",
    "hermit_crab.n.01": "crab",  # not under crab.n.01, but everyone calls it a crab
    "lobster.n.02": "lobster", "whale.n.02": "whale", "seal.n.09": "seal",
    "dog.n.01": "dog", "wolf.n.01": "wolf", "coyote.n.01": "coyote", "fox.n.01": "fox",
    "domestic_cat.n.01": "cat",
    # wild cats: WordNet's lemma "cat" (cat.n.01, big_cat.n.01) would make a lion a "cat";
    # the caption word must not send a listener to a house cat.
    "cougar.n.01": "cougar", "lynx.n.02": "lynx", "leopard.n.02": "leopard",
    "snow_leopard.n.01": "snow leopard", "jaguar.n.01": "jaguar", "lion.n.01": "lion",
    "tiger.n.02": "tiger", "cheetah.n.01": "cheetah",
    "bear.n.01": "bear", "giant_panda.n.01": "panda", "lesser_panda.n.01": "red panda",
    "insect.n.01": "insect", "butterfly.n.01": "butterfly", "fly.n.01": "fly",
    "bee.n.01": "bee", "cricket.n.01": "cricket",
    "rabbit.n.01": "rabbit", "squirrel.n.01": "squirrel", "horse.n.01": "horse",
    "hog.n.03": "pig", "cattle.n.01": "cow", "sheep.n.01": "sheep",
    "wild_sheep.n.01": "sheep", "goat.n.01": "goat", "antelope.n.01": "antelope",
    "camel.n.01": "camel", "monkey.n.01": "monkey", "lemur.n.01": "lemur",
    "elephant.n.01": "elephant",
    # the everyday one-word name, where the class name is longer
    "wild_boar.n.01": "boar", "water_buffalo.n.01": "buffalo", "three-toed_sloth.n.01": "sloth",
    "black-footed_ferret.n.01": "ferret", "chambered_nautilus.n.01": "nautilus",
}

# Things, food, plants and places (same rule as BASIC_LEVEL).
BASIC_LEVEL_THINGS = {
    # vehicles
    "car.n.01": "car", "ambulance.n.01": "ambulance", "jeep.n.01": "jeep",
    "limousine.n.01": "limousine", "minivan.n.01": "van", "van.n.05": "van",
    "racer.n.02": "car",          # race car; the headword "racer" would be a person
    "car.n.02": "train",          # railway cars (freight car, passenger car): "a train"
    "locomotive.n.01": "train", "train.n.01": "train",
    "truck.n.01": "truck", "bus.n.01": "bus", "bicycle.n.01": "bicycle",
    "motorcycle.n.01": "motorcycle", "motor_scooter.n.01": "scooter",
    "boat.n.01": "boat", "sailboat.n.01": "sailboat", "sailing_vessel.n.01": "ship",
    "ship.n.01": "ship", "pirate.n.03": "ship",  # the ship; the headword would be a person
    "submarine.n.01": "submarine",  # WordNet's warship > ship; nobody calls one a ship
    "airplane.n.01": "airplane", "warplane.n.01": "airplane",
    "handcart.n.01": "cart", "cart.n.01": "cart", "barrow.n.03": "wheelbarrow",
    "jinrikisha.n.01": "rickshaw",
    # buildings and structures
    "building.n.01": "building", "church.n.02": "church", "greenhouse.n.01": "greenhouse",
    "restaurant.n.01": "restaurant", "barn.n.01": "barn", "shop.n.01": "shop",
    "grocery_store.n.01": "shop", "apiary.n.01": "beehive", "stone_wall.n.01": "wall",
    "home_theater.n.01": "home theater",
    # furniture and household
    "chair.n.01": "chair", "table.n.02": "table", "bed.n.01": "bed", "sofa.n.01": "sofa",
    "toilet_seat.n.01": "toilet", "lamp.n.02": "lamp", "television.n.02": "tv",
    "telephone.n.01": "phone", "laptop.n.01": "laptop", "notebook.n.02": "laptop",
    "keyboard.n.01": "keyboard", "spoon.n.01": "spoon", "cash_machine.n.01": "atm",
    "chain_saw.n.01": "chainsaw", "safe.n.01": "safe", "mailbox.n.01": "mailbox",
    "beaker.n.01": "beaker", "vase.n.01": "vase", "wallet.n.01": "wallet",
    "thimble.n.02": "thimble", "lampshade.n.01": "lampshade", "lens_cap.n.01": "lens cap",
    "manhole_cover.n.01": "manhole cover", "water_tower.n.01": "water tower",
    "rain_barrel.n.01": "barrel", "punching_bag.n.02": "bag",  # WordNet: a kind of ball
    "pinwheel.n.02": "pinwheel", "potter's_wheel.n.01": "potter's wheel",
    "crutch.n.01": "crutch", "matchstick.n.01": "match", "spindle.n.04": "spindle",
    "flagpole.n.02": "pole", "maypole.n.01": "maypole", "obelisk.n.01": "obelisk",
    "totem_pole.n.01": "totem pole", "carousel.n.02": "carousel",
    "carpenter's_kit.n.01": "tool kit", "drilling_platform.n.01": "oil rig",
    "joystick.n.02": "joystick", "switch.n.01": "switch", "torch.n.01": "torch",
    "scoreboard.n.01": "scoreboard", "stretcher.n.03": "stretcher",
    "slide_rule.n.01": "slide rule", "web_site.n.01": "website",
    "mosquito_net.n.01": "mosquito net", "dome.n.04": "dome", "vault.n.03": "vault",
    "breastplate.n.01": "breastplate", "space_bar.n.01": "keyboard",
    "steel_drum.n.01": "drum", "oxygen_mask.n.01": "mask", "clog.n.01": "shoe",
    "swab.n.02": "mop", "sunscreen.n.01": "sunscreen", "book_jacket.n.01": "book",
    "lumbermill.n.01": "sawmill", "plane.n.05": "hand plane",  # "plane" says airplane
    # clothing
    "shirt.n.01": "shirt", "jersey.n.03": "shirt", "sweater.n.01": "sweater",
    "sweatshirt.n.01": "sweatshirt", "coat.n.01": "coat", "necktie.n.01": "tie",
    "jean.n.01": "jeans", "swimsuit.n.01": "swimsuit",
    "maillot.n.02": "swimsuit",  # "tights for dancers"; the photos are one-piece suits
    # food, drink, plants, places, people
    "coffee.n.01": "coffee", "wine.n.01": "wine", "cup.n.01": "cup",
    "eggnog.n.01": "drink", "hotdog.n.02": "hot dog", "carbonara.n.01": "pasta",
    "meat_loaf.n.01": "meatloaf", "head_cabbage.n.02": "cabbage", "squash.n.02": "squash",
    "bell_pepper.n.02": "pepper", "fungus.n.01": "mushroom", "mushroom.n.05": "mushroom",
    "ear.n.05": "corn", "acorn.n.01": "acorn", "hip.n.05": "rose hip",
    "buckeye.n.01": "buckeye", "rapeseed.n.01": "rapeseed",
    "coral_reef.n.01": "coral reef", "sandbar.n.01": "sandbar", "nipple.n.02": "nipple",
    "pajama.n.02": "pajamas", "sunglasses.n.01": "sunglasses", "theater.n.01": "theater",
    "ashcan.n.01": "trash can",
    "lakeside.n.01": "lake", "volcano.n.02": "mountain", "ballplayer.n.01": "player",
    "puzzle.n.02": "puzzle",
}

# Where ImageNet's photos are not what the class synset's hypernyms say, walk from these
# synsets instead (the class's own lemmas are kept); [] keeps only the class's lemmas.
WALK_FROM = {
    "cup.n.06": ["cup.n.01"],              # WordNet: a punch; the photos are cups
    "sunglass.n.01": ["sunglasses.n.01"],  # WordNet: a burning glass; the photos: sunglasses
    "tusker.n.01": ["elephant.n.01"],      # WordNet: any mammal with tusks
    "meat_loaf.n.01": [],                  # WordNet also files it under loaf_of_bread
    "home_theater.n.01": [],               # WordNet: a theater building
    "web_site.n.01": [],                   # WordNet: a computer
    "book_jacket.n.01": [],                # its hypernym jacket.n.02 would say "jacket"
    "sandbar.n.01": [],                    # bar, ridge, barrier: none names it in a caption
    "chain.n.03": [],                      # ligament, attachment, bond, connection...
    "puck.n.02": [],                       # disk > plate > circle > sheet
    "rain_barrel.n.01": ["barrel.n.02"],   # WordNet: cistern > reservoir > pool > tank
}

# Names to say, where torchvision's is obscure, ambiguous or awkward to hear. Keyed by the
# torchvision name (unique; checked).
NAME_OVERRIDES = {
    "cock": "rooster", "crane bird": "crane", "maillot": "leotard",
    "maillot tank suit": "one-piece swimsuit", "tusker": "elephant",
    "Madagascar cat": "ring-tailed lemur", "lesser panda": "red panda",
    "ice bear": "polar bear", "tabby": "tabby cat", "sorrel": "sorrel horse",
    "harvestman": "daddy longlegs", "loggerhead": "loggerhead turtle",
    "agama": "agama lizard", "whiptail": "whiptail lizard",
    "diamondback": "diamondback rattlesnake", "admiral": "admiral butterfly",
    "monarch": "monarch butterfly", "ringlet": "ringlet butterfly",
    "lycaenid": "gossamer-winged butterfly", "puffer": "pufferfish", "coho": "coho salmon",
    "Angora": "Angora rabbit", "guenon": "guenon monkey", "patas": "patas monkey",
    "titi": "titi monkey", "colobus": "colobus monkey", "capuchin": "capuchin monkey",
    "Pembroke": "Pembroke Welsh corgi", "Cardigan": "Cardigan Welsh corgi",
    "Lhasa": "Lhasa apso", "cairn": "cairn terrier", "clumber": "clumber spaniel",
    "English springer": "English springer spaniel", "Boston bull": "Boston terrier",
    "basset": "basset hound", "Airedale": "Airedale terrier", "chow": "chow chow",
    "Leonberg": "Leonberger", "Mexican hairless": "Mexican hairless dog",
    "amphibian": "amphibious vehicle", "ashcan": "trash can", "barrow": "wheelbarrow",
    "beach wagon": "station wagon", "bannister": "banister", "beacon": "lighthouse",
    "bearskin": "bearskin hat", "bicycle-built-for-two": "tandem bicycle",
    "binder": "ring binder", "brass": "brass plaque", "caldron": "cauldron", "cab": "taxi",
    "carpenter's kit": "tool kit", "chainlink fence": "chain-link fence",
    "chiffonier": "chest of drawers", "confectionery": "candy store",
    "Crock Pot": "slow cooker", "drilling platform": "oil rig", "file": "filing cabinet",
    "four-poster": "four-poster bed", "golfcart": "golf cart", "grille": "car grille",
    "hand blower": "hair dryer", "hand-held computer": "handheld computer",
    "hard disc": "hard disk", "jean": "jeans", "jersey": "T-shirt", "jinrikisha": "rickshaw",
    "Loafer": "loafer", "lumbermill": "sawmill", "magnetic compass": "compass",
    "medicine chest": "medicine cabinet", "mortar": "mortar and pestle",
    "mouse": "computer mouse", "nipple": "baby bottle nipple",
    "notebook": "notebook computer", "organ": "pipe organ", "pajama": "pajamas",
    "panpipe": "pan flute", "passenger car": "railway carriage", "pay-phone": "payphone",
    "pencil box": "pencil case", "pick": "guitar pick", "pickup": "pickup truck",
    "pirate": "pirate ship", "plane": "carpenter's plane", "pop bottle": "soda bottle",
    "pot": "flowerpot", "potpie": "pot pie", "puck": "hockey puck", "quill": "quill pen",
    "racer": "race car", "reel": "fishing reel", "rubber eraser": "eraser", "rule": "ruler",
    "saltshaker": "salt shaker", "sax": "saxophone", "scale": "weighing scale",
    "shoji": "shoji screen", "slot": "slot machine", "studio couch": "sofa bed",
    "sunglass": "sunglasses", "swab": "mop", "switch": "light switch", "teddy": "teddy bear",
    "thatch": "thatched roof", "toyshop": "toy shop", "trailer truck": "tractor-trailer",
    "upright": "upright piano", "vacuum": "vacuum cleaner", "vault": "vaulted ceiling",
    "washer": "washing machine", "wing": "airplane wing", "wreck": "shipwreck",
    "worm fence": "split-rail fence", "web site": "website", "crossword puzzle": "crossword",
    "plate": "plate of food", "hotdog": "hot dog", "mashed potato": "mashed potatoes",
    "head cabbage": "cabbage", "Granny Smith": "Granny Smith apple", "French loaf": "baguette",
    "carbonara": "spaghetti carbonara", "meat loaf": "meatloaf", "ice lolly": "ice pop",
    "alp": "mountain peak", "lakeside": "lake shore", "ballplayer": "baseball player",
    "groom": "bridegroom", "yellow lady's slipper": "lady's slipper orchid",
    "hip": "rose hip", "buckeye": "horse chestnut", "gyromitra": "false morel",
    "ear": "ear of corn", "toilet tissue": "toilet paper", "apiary": "beehive",
}

# Extra acceptable words beyond WordNet's hypernyms: words a caption rightly uses for a class
# that WordNet files elsewhere (a drink is served in a cup; an airplane wing is seen from a
# plane). Appended after the group word, so they are acceptable but never taken for more
# specific names of the group. Keyed by torchvision name.
EXTRA_WORDS = {
    "espresso": ["cup"], "eggnog": ["cup", "glass"], "red wine": ["glass"],
    "coffee mug": ["cup"], "consomme": ["bowl"], "plate": ["food"],
    "groom": ["man"],  # WordNet: "a man participant in his own marriage ceremony"
    "wing": ["airplane", "plane"], "space bar": ["keyboard"], "lampshade": ["lamp"],
    "flagpole": ["flag"], "yurt": ["tent"], "seashore": ["beach"], "lakeside": ["lake"],
    "book jacket": ["book"], "carbonara": ["spaghetti"], "ear": ["corn"],
    "Band Aid": ["bandage"], "comic book": ["book"], "measuring cup": ["cup"],
}

# Everyday words for every member of a group that WordNet files as hyponyms, not hypernyms.
GROUP_EXTRA_WORDS = {"dog": ["puppy"], "cat": ["kitten"], "insect": ["bug"], "horse": ["pony"]}

# Lemmas never used as caption words: their everyday sense is something else, so a caption
# using them would count as naming the object by accident ("head" for a promontory, "wood"
# for a woodwind). Keyed by synset (a class's or a hypernym's).
DROP_LEMMAS = {
    "promontory.n.01": ["head"], "cliff.n.01": ["drop", "drop-off"],
    "lighter.n.02": ["light", "igniter", "ignitor"], "jackfruit.n.02": ["jack", "jak"],
    "web_site.n.01": ["site"], "spotlight.n.02": ["spot"], "dining_table.n.01": ["board"],
    "rubber_eraser.n.01": ["rubber"], "wardrobe.n.01": ["press"],
    "quilt.n.01": ["comfort", "puff"], "hook.n.04": ["claw"], "killer_whale.n.01": ["killer"],
    "ear.n.05": ["spike", "capitulum"], "hip.n.05": ["hip"], "harmonica.n.01": ["harp"],
    "cornet.n.01": ["trump"], "oscilloscope.n.01": ["scope", "cro"],
    "bullet_train.n.01": ["bullet"], "trailer_truck.n.01": ["rig"],
    "bobsled.n.02": ["bob"], "diaper.n.01": ["napkin"], "breakwater.n.01": ["groin", "mole"],
    "ocarina.n.01": ["sweet potato"], "submarine.n.01": ["sub"],
    "cellular_telephone.n.01": ["cell"], "cab.n.03": ["hack"], "greenhouse.n.01": ["nursery"],
    "three-toed_sloth.n.01": ["ai"], "skunk.n.04": ["wood pussy"],
    "cougar.n.01": ["painter"], "snow_leopard.n.01": ["ounce"],
    # slurs or crude words WordNet lists as lemmas; no caption should be steered to them
    "cock.n.05": ["cock"], "titmouse.n.01": ["tit"], "owl.n.01": ["hooter"],
    "athlete.n.01": ["jock"], "giant_panda.n.01": ["coon bear"],
    "police_van.n.01": ["paddy wagon"],
    # hypernyms' secondary lemmas
    "woodwind.n.01": ["wood"], "wind_instrument.n.01": ["wind"], "firearm.n.01": ["piece"],
    "workplace.n.01": ["work"], "plant.n.01": ["works", "plant"], "theater.n.01": ["house"],
    "bowed_stringed_instrument.n.01": ["string"], "bicycle.n.01": ["wheel"],
    "car.n.01": ["machine"], "peer.n.01": ["match", "equal"],
    "design.n.04": ["figure", "pattern"], "hosiery.n.01": ["hose"], "bandage.n.01": ["patch"],
    "rack.n.05": ["stand"], "airfoil.n.01": ["surface", "control surface"],
    "savings_bank.n.02": ["bank"], "kit.n.02": ["outfit"], "toy_dog.n.01": ["toy"],
    "upright.n.01": ["vertical"], "dessert.n.01": ["sweet"], "hat.n.01": ["lid"],
}

# Names said without an article: mass nouns and plurals. Keyed by the name said.
NO_ARTICLE = {
    "jeans", "pajamas", "sunglasses", "swimming trunks", "parallel bars", "chain mail",
    "hay", "guacamole", "consomme", "spaghetti carbonara", "chocolate sauce",
    "mashed potatoes", "dough", "red wine", "eggnog", "toilet paper", "velvet", "wool",
    "face powder", "hair spray", "lotion", "sunscreen", "perfume", "ice cream", "broccoli",
    "corn", "rapeseed", "binoculars", "hen-of-the-woods", "honeycomb", "coral fungus",
}

# Words spelled with a vowel but said with a consonant sound (or the other way round).
_A_BEFORE = ("uni", "use", "usu", "ur", "eu", "one", "ewe", "ufo")
_AN_BEFORE = ("hour", "honest", "honor", "honour", "heir")


def article_for(name):
    """ "a" or "an" by the sound of the first word (letters are not sounds: "a unicycle")."""
    w = name.lower()
    if w.startswith(_AN_BEFORE):
        return "an"
    if w.startswith(_A_BEFORE):
        return "a"
    # Initialisms are read letter by letter: "an RV", "a CD player".
    first = name.split()[0]
    if len(first) > 1 and first.isupper():
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    return "an" if w[0] in "aeiou" else "a"


# --------------------------------------------------------------------------------------------
# WordNet 3.0 data files (data.noun / index.noun), parsed directly.
# --------------------------------------------------------------------------------------------

Synset = collections.namedtuple("Synset", "offset lemmas hypernyms gloss")


class WordNet:
    """Noun synsets of WordNet 3.0 keyed by 8-digit offset, with hypernym links.

    data.noun lines: offset lex_filenum ss_type w_cnt(hex) [word lex_id]*w_cnt p_cnt(dec)
    [pointer_symbol offset pos source/target]*p_cnt | gloss. Only "@" (hypernym) and "@i"
    (instance hypernym) pointers are kept.
    """

    def __init__(self, wordnet_dir=WORDNET_DIR):
        self.synsets = {}
        with open(os.path.join(wordnet_dir, "data.noun"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):  # the license header
                    continue
                head, _, gloss = line.partition(" | ")
                t = head.split()
                w_cnt = int(t[3], 16)
                lemmas = [t[4 + 2 * i] for i in range(w_cnt)]
                i = 4 + 2 * w_cnt
                p_cnt = int(t[i])
                i += 1
                hypernyms = []
                for _ in range(p_cnt):
                    symbol, target, pos = t[i], t[i + 1], t[i + 2]
                    i += 4
                    if symbol in ("@", "@i") and pos == "n":
                        hypernyms.append(target)
                self.synsets[t[0]] = Synset(t[0], lemmas, hypernyms, gloss.strip())
        # index.noun gives each lemma's synsets in sense order, which is what "dog.n.01" means.
        self.senses = {}
        with open(os.path.join(wordnet_dir, "index.noun"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                t = line.split()
                p_cnt = int(t[3])
                self.senses[t[0]] = t[4 + p_cnt + 2:]
        # A Latin binomial ("Felis catus", "Canis familiaris") starts with a genus name, which
        # WordNet also lists as "genus_X"; those lemmas are no use in a caption.
        self.genera = {k[len("genus_"):] for k in self.senses if k.startswith("genus_")}

    def resolve(self, name):
        """Offset of "dog.n.01" or of a wnid "n02084071"."""
        if re.fullmatch(r"n\d{8}", name):
            off = name[1:]
        else:
            lemma, pos, num = name.rsplit(".", 2)
            assert pos == "n", name
            off = self.senses[lemma.lower()][int(num) - 1]
        if off not in self.synsets:
            raise KeyError(name)
        return off

    def closure(self, off, stop=frozenset()):
        """The synset and its hypernyms, nearest first (breadth-first), not walking into stop."""
        seen, frontier = [off], [off]
        while frontier:
            nxt = []
            for o in frontier:
                for h in self.synsets[o].hypernyms:
                    if h not in seen and h not in stop:
                        seen.append(h)
                        nxt.append(h)
            frontier = nxt
        return seen

    def is_under(self, off, ancestor):
        return ancestor in self.closure(off)

    def is_binomial(self, lemma):
        parts = lemma.split("_")
        return len(parts) >= 2 and parts[0][:1].isupper() and parts[0].lower() in self.genera


def plain(lemma):
    """A WordNet lemma as a caption word: spaces, lowercase ("Egyptian_cat" -> "egyptian cat")."""
    return lemma.replace("_", " ").lower()


class Lexicon:
    """The curated tables resolved against one WordNet: what every class may be called."""

    def __init__(self, wn):
        self.wn = wn
        self.ceiling = frozenset(wn.resolve(n) for n in CEILING)
        self.basic = {wn.resolve(k): v for k, v in {**BASIC_LEVEL, **BASIC_LEVEL_THINGS}.items()}
        self.walk_from = {wn.resolve(k): [wn.resolve(x) for x in v] for k, v in WALK_FROM.items()}
        self.drop = {wn.resolve(k): {plain(x) for x in v} for k, v in DROP_LEMMAS.items()}
        self.animal = wn.resolve("animal.n.01")
        self.dog = wn.resolve("dog.n.01")

    def chain(self, wnid):
        """The class synset and its hypernyms below the ceiling, nearest first."""
        off = self.wn.resolve(wnid)
        if off not in self.walk_from:
            return [o for o in self.wn.closure(off, self.ceiling) if o not in self.ceiling]
        chain = [off]
        for start in self.walk_from[off]:
            for o in self.wn.closure(start, self.ceiling):
                if o not in self.ceiling and o not in chain:
                    chain.append(o)
        return chain

    def lemmas(self, off):
        """The synset's lemmas as caption words, without Latin names and dropped lemmas."""
        drop = self.drop.get(off, ())
        out = []
        for lemma in self.wn.synsets[off].lemmas:
            if self.wn.is_binomial(lemma):
                continue
            w = plain(lemma)
            if w not in drop:
                out.append(w)
        return out

    def group(self, wnid, name, vocab=None):
        """The basic-level word: nearest listed synset, else the most specific one-word lemma
        in the vocabulary, else the class's own name."""
        chain = self.chain(wnid)
        for off in chain:
            if off in self.basic:
                return self.basic[off], "basic"
        if vocab is not None:
            for off in chain:
                # Only a synset's headword: its other lemmas are often rare senses of common
                # words (woodwind.n.01 is also "wood", firearm.n.01 "piece").
                head = self.lemmas(off)[:1]
                if head and " " not in head[0] and in_vocab(head[0], vocab):
                    return head[0], "vocab"
        return name.lower(), "own"

    def words(self, wnid, name, group, tv_name):
        """Acceptable caption words, specific to general: the class's name and lemmas, its
        hypernyms' lemmas up to the ceiling, the group word placed right after the synset it
        comes from (so that every word before it is more specific), then the explicit extras."""
        out = [name.lower()]
        basic_off = next((o for o in self.chain(wnid) if o in self.basic), None)
        for off in self.chain(wnid):
            out += self.lemmas(off)
            if off == basic_off:
                out.append(group)
        if group not in out:
            out.append(group)
        out += EXTRA_WORDS.get(tv_name, []) + GROUP_EXTRA_WORDS.get(group, [])
        seen, uniq = set(), []
        for w in out:
            if w not in seen:
                seen.add(w)
                uniq.append(w)
        return uniq

    def is_animal(self, wnid):
        return self.wn.is_under(self.wn.resolve(wnid), self.animal)

    def is_dog(self, wnid):
        return self.wn.is_under(self.wn.resolve(wnid), self.dog)


def in_vocab(word, vocab):
    """Every token of the word (or of its simple plural, "boots") is in the vocabulary."""
    toks = word.split()
    if all(t in vocab for t in toks):
        return True
    last = toks[-1]
    for p in (last + "s", last + "es", last[:-1] + "ies" if last.endswith("y") else None):
        if p and all(t in vocab for t in toks[:-1] + [p]):
            return True
    return False


def read_class_wnids(labels_path):
    """Class index -> wnid from the sample's labels.tsv (file, class_index, wnid, name)."""
    wnids = {}
    with open(labels_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            wnids[int(cols[1])] = cols[2]
    assert sorted(wnids) == list(range(1000)), "expected class indices 0..999"
    return [wnids[i] for i in range(1000)]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


Row = collections.namedtuple("Row", "index wnid name article group words in_vocab how")


def build_rows(wn, wnids, tv_names, vocab):
    for table in (NAME_OVERRIDES, EXTRA_WORDS):
        unknown = set(table) - set(tv_names)
        assert not unknown, f"not torchvision class names: {sorted(unknown)}"
    lex = Lexicon(wn)
    rows = []
    for i, (wnid, tv) in enumerate(zip(wnids, tv_names)):
        # torchvision's names are plain English and capitalised only for proper nouns.
        name = NAME_OVERRIDES.get(tv, tv)
        group, how = lex.group(wnid, name, vocab)
        words = lex.words(wnid, name, group, tv)
        article = "" if name in NO_ARTICLE else article_for(name)
        rows.append(Row(i, wnid, name, article, group, words, int(in_vocab(group, vocab)), how))
    unused = NO_ARTICLE - {r.name for r in rows}
    assert not unused, f"NO_ARTICLE names no class is called: {sorted(unused)}"
    check_tables(lex, wnids)
    return lex, rows


def check_tables(lex, wnids):
    """Every curated synset must lie on some class's walk: a mistyped sense number
    ("skunk.n.03" for .n.04) would otherwise resolve to another synset and silently do
    nothing. Dropped lemmas must be lemmas of their synset."""
    wn = lex.wn
    reached, walked = set(), set()
    for w in wnids:
        reached.update(wn.closure(wn.resolve(w)))
        walked.update(lex.chain(w))
    for name in CEILING:
        assert wn.resolve(name) in reached, f"CEILING {name} is above no class"
    for table in (BASIC_LEVEL, BASIC_LEVEL_THINGS, WALK_FROM, DROP_LEMMAS):
        for name in table:
            assert wn.resolve(name) in walked, f"{name} is on no class's walk"
    for name, drop in DROP_LEMMAS.items():
        have = {plain(x) for x in wn.synsets[wn.resolve(name)].lemmas}
        assert {plain(x) for x in drop} <= have, f"DROP_LEMMAS {name}: {drop} not all lemmas"


HEADER = """\
# ImageNet-1k classes (ILSVRC-2012 order = the encoder head's output order) and the words a
# caption would use for them. Generated by tools/imagenet_words.py; to regenerate:
#   python3 tools/imagenet_words.py --labels ../shared/data/imagenet-sample/labels.tsv
# Sources: WordNet 3.0 noun lemmas and hypernyms (Debian wordnet-base 1:3.0-37,
# /usr/share/wordnet/data.noun and index.noun), license below and in
# assets/LICENSES/WordNet-3.0-license.txt; class names from torchvision (BSD-3-Clause, via
# assets/imagenet_classes.txt); class ids: the ILSVRC-2012 synset list.
#
# WordNet Release 3.0
"""

COLUMNS = """\
#
# Columns (tab-separated): index, wnid, name (to say), article (a/an, or empty for mass
# nouns and plurals), group (the basic-level caption word), words (acceptable caption words,
# |-separated, specific to general; words before the group word are more specific names),
# in_vocab (1 if the group word, or its plural, is in assets/model/vocab.txt).
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wordnet", default=WORDNET_DIR)
    ap.add_argument("--labels", default=os.path.join(
        root, "..", "shared", "data", "imagenet-sample", "labels.tsv"))
    ap.add_argument("--classes", default=os.path.join(root, "assets", "imagenet_classes.txt"))
    ap.add_argument("--vocab", default=os.path.join(root, "assets", "model", "vocab.txt"))
    ap.add_argument("--out", default=os.path.join(root, "assets", "imagenet_words.tsv"))
    ap.add_argument("--check", type=int, default=30, metavar="N",
                    help="print N random rows to read (0: none)")
    args = ap.parse_args()

    wn = WordNet(args.wordnet)
    wnids = read_class_wnids(args.labels)
    tv_names = read_lines(args.classes)
    assert len(tv_names) == 1000
    vocab = set(read_lines(args.vocab))
    lex, rows = build_rows(wn, wnids, tv_names, vocab)

    with open(args.out, "w", encoding="utf-8") as f:
        f.write(HEADER)
        # The WordNet license asks for its notice on all copies, modifications included.
        with open(os.path.join(args.wordnet, "data.noun"), encoding="utf-8") as dn:
            for line in dn:
                if not line.startswith("  "):
                    break
                f.write("#" + re.sub(r"^\s+\d+ ?", " ", line).rstrip() + "\n")
        f.write(COLUMNS)
        for r in rows:
            f.write("\t".join([str(r.index), r.wnid, r.name, r.article, r.group,
                               "|".join(r.words), str(r.in_vocab)]) + "\n")
    print(f"wrote {len(rows)} classes to {args.out}")
    report(lex, rows, args.check)


def report(lex, rows, check):
    groups = collections.Counter(r.group for r in rows)
    vocab_groups = {r.group for r in rows if r.in_vocab}
    print(f"{len(groups)} groups; {len(vocab_groups)} of them in the vocabulary; "
          f"{sum(r.in_vocab for r in rows)} of 1000 classes have an in-vocabulary group")
    how = collections.Counter(r.how for r in rows)
    print("group from: " + ", ".join(f"{k} {v}" for k, v in how.most_common()))
    dogs = [r for r in rows if lex.is_dog(r.wnid)]
    print(f"dog.n.01 classes: {len(dogs)} (indices {dogs[0].index}..{dogs[-1].index}); "
          f"group 'dog': {groups['dog']}")
    assert all(r.group == "dog" for r in dogs) and groups["dog"] == len(dogs)
    animals = [r for r in rows if lex.is_animal(r.wnid)]
    print(f"animal.n.01 classes: {len(animals)}")
    print("groups with more than one class:")
    print("  " + ", ".join(f"{g} {n}" for g, n in groups.most_common() if n > 1))
    if check:
        print(f"{check} random rows:")
        for r in random.Random(0).sample(rows, check):
            print(f"  {r.index:3d} {r.name!r:28} {r.article:2} {r.group!r:18} "
                  f"{'|'.join(r.words)}")


if __name__ == "__main__":
    sys.exit(main())
