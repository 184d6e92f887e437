"""The Gourmet Delights demo menu: 6 categories, 40 items, with sizes, extras and allergens."""

from __future__ import annotations

from dataclasses import dataclass, field

from gourmet.db.types import Conn
from gourmet.management import repository as management_repo
from gourmet.menu import repository as menu_repo
from gourmet.ordering.checkout.slots import OpeningPeriod

Options = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Group:
    name: str
    min_choices: int
    max_choices: int
    options: Options


@dataclass(frozen=True)
class Dish:
    name: str
    description: str
    price_cents: int
    allergens: tuple[str, ...] = ()
    dietary: tuple[str, ...] = ()
    groups: tuple[Group, ...] = ()
    stock: int | None = None


PIZZA_SIZE = Group("Size", 1, 1, (("Medium 10in", 0), ("Large 14in", 400), ("Family 18in", 800)))
PIZZA_EXTRAS = Group(
    "Extra toppings",
    0,
    4,
    (("Mozzarella", 150), ("Mushrooms", 100), ("Olives", 100), ("Jalapeños", 100), ("Basil", 50)),
)
BURGER_DONENESS = Group("Cooked", 1, 1, (("Medium", 0), ("Medium well", 0), ("Well done", 0)))
BURGER_EXTRAS = Group(
    "Extras", 0, 3, (("Bacon", 200), ("Cheddar", 120), ("Avocado", 180), ("Fried egg", 150))
)
SIDE_SIZE = Group("Portion", 1, 1, (("Regular", 0), ("Large", 200)))
DRINK_SIZE = Group("Size", 1, 1, (("Small", 0), ("Large", 100)))
SAUCE = Group("Dip", 0, 2, (("Garlic aioli", 75), ("Chipotle mayo", 75), ("Ketchup", 0)))

GLUTEN, DAIRY, EGG, NUTS, FISH, SOY, SESAME, CELERY, MUSTARD, SHELLFISH = (
    "gluten",
    "dairy",
    "egg",
    "nuts",
    "fish",
    "soy",
    "sesame",
    "celery",
    "mustard",
    "shellfish",
)
VEG, VEGAN, GF, SPICY = "vegetarian", "vegan", "gluten-free", "spicy"

DEMO_ADDRESS = "12 Market Square, Springfield"  # a made-up address for the demo
DEMO_PHONE = "555 010 2000"
DEMO_MENU: dict[str, list[Dish]] = {
    "Starters": [
        Dish(
            "Garlic bread", "Sourdough, roast garlic butter, parsley", 650, (GLUTEN, DAIRY), (VEG,)
        ),
        Dish(
            "Burrata", "Heirloom tomatoes, basil oil, grilled bread", 1250, (DAIRY, GLUTEN), (VEG,)
        ),
        Dish("Crispy calamari", "Lemon, smoked paprika aioli", 1150, (SHELLFISH, EGG, GLUTEN)),
        Dish("Tomato soup", "Slow-roast tomato, crème fraîche", 750, (DAIRY, CELERY), (VEG, GF)),
        Dish(
            "Chicken wings",
            "Six wings, buffalo glaze",
            1050,
            (DAIRY, CELERY),
            (SPICY, GF),
            (SAUCE,),
        ),
        Dish("Hummus plate", "Chickpeas, tahini, warm flatbread", 850, (SESAME, GLUTEN), (VEGAN,)),
        Dish(
            "Arancini", "Saffron risotto balls, mozzarella heart", 900, (GLUTEN, DAIRY, EGG), (VEG,)
        ),
    ],
    "Pizza": [
        Dish(
            "Margherita",
            "San Marzano tomato, fior di latte, basil",
            1300,
            (GLUTEN, DAIRY),
            (VEG,),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Diavola",
            "Spicy salami, chilli honey, mozzarella",
            1550,
            (GLUTEN, DAIRY),
            (SPICY,),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Funghi",
            "Wild mushrooms, taleggio, thyme",
            1500,
            (GLUTEN, DAIRY),
            (VEG,),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Quattro formaggi",
            "Four cheeses, walnuts, honey",
            1600,
            (GLUTEN, DAIRY, NUTS),
            (VEG,),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Prosciutto e rucola",
            "Parma ham, rocket, parmesan",
            1700,
            (GLUTEN, DAIRY),
            (),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Vegan garden",
            "Roast peppers, courgette, vegan cheese",
            1450,
            (GLUTEN, SOY),
            (VEGAN,),
            (PIZZA_SIZE, PIZZA_EXTRAS),
        ),
        Dish(
            "Truffle bianca",
            "Truffle cream, potato, rosemary",
            1850,
            (GLUTEN, DAIRY),
            (VEG,),
            (PIZZA_SIZE,),
            stock=12,
        ),
    ],
    "Burgers": [
        Dish(
            "Classic burger",
            "Dry-aged beef, cheddar, pickles, brioche",
            1450,
            (GLUTEN, DAIRY, EGG, MUSTARD),
            (),
            (BURGER_DONENESS, BURGER_EXTRAS),
        ),
        Dish(
            "Smokehouse burger",
            "Beef, bacon jam, smoked cheese, onion rings",
            1650,
            (GLUTEN, DAIRY, EGG),
            (),
            (BURGER_DONENESS, BURGER_EXTRAS),
        ),
        Dish(
            "Crispy chicken burger",
            "Buttermilk chicken, slaw, hot honey",
            1400,
            (GLUTEN, DAIRY, EGG),
            (SPICY,),
            (BURGER_EXTRAS,),
        ),
        Dish(
            "Mushroom burger",
            "Portobello, halloumi, pesto",
            1300,
            (GLUTEN, DAIRY, NUTS),
            (VEG,),
            (BURGER_EXTRAS,),
        ),
        Dish(
            "Plant burger",
            "Plant patty, vegan mayo, tomato",
            1350,
            (GLUTEN, SOY),
            (VEGAN,),
            (BURGER_EXTRAS,),
        ),
        Dish("Fish burger", "Beer-battered cod, tartare sauce", 1450, (GLUTEN, FISH, EGG), ()),
    ],
    "Mains": [
        Dish(
            "Steak frites",
            "8oz flat iron, peppercorn sauce, fries",
            2400,
            (DAIRY,),
            (GF,),
            (BURGER_DONENESS,),
        ),
        Dish("Roast salmon", "Crushed potatoes, salsa verde", 2100, (FISH,), (GF,)),
        Dish("Chicken Milanese", "Parmesan crumb, rocket, lemon", 1850, (GLUTEN, DAIRY, EGG)),
        Dish(
            "Wild mushroom risotto",
            "Carnaroli, parmesan, truffle oil",
            1700,
            (DAIRY, CELERY),
            (VEG, GF),
        ),
        Dish(
            "Lasagne al forno", "Beef ragù, béchamel, parmesan", 1750, (GLUTEN, DAIRY, EGG, CELERY)
        ),
        Dish("Thai green curry", "Vegetables, jasmine rice", 1550, (SOY,), (VEGAN, GF, SPICY)),
        Dish("Fish and chips", "Cod, mushy peas, tartare", 1800, (GLUTEN, FISH, EGG)),
    ],
    "Sides": [
        Dish("Fries", "Skin-on, sea salt", 450, (), (VEGAN, GF), (SIDE_SIZE, SAUCE)),
        Dish("Sweet potato fries", "Smoked salt", 550, (), (VEGAN, GF), (SIDE_SIZE, SAUCE)),
        Dish("Onion rings", "Beer batter", 500, (GLUTEN,), (VEG,), (SAUCE,)),
        Dish("House salad", "Leaves, radish, mustard dressing", 500, (MUSTARD,), (VEGAN, GF)),
        Dish("Mac and cheese", "Three cheeses, crumb", 650, (GLUTEN, DAIRY), (VEG,)),
        Dish("Coleslaw", "Red cabbage, apple", 350, (EGG,), (VEG, GF)),
    ],
    "Desserts & drinks": [
        Dish(
            "Tiramisu", "Mascarpone, espresso, cocoa", 750, (GLUTEN, DAIRY, EGG), (VEG,), stock=20
        ),
        Dish(
            "Chocolate brownie",
            "Salted caramel, vanilla ice cream",
            700,
            (GLUTEN, DAIRY, EGG, NUTS),
            (VEG,),
        ),
        Dish("Lemon tart", "Crème fraîche", 650, (GLUTEN, DAIRY, EGG), (VEG,)),
        Dish("Sorbet", "Three scoops, seasonal", 550, (), (VEGAN, GF)),
        Dish("Homemade lemonade", "Mint, lime", 400, (), (VEGAN, GF), (DRINK_SIZE,)),
        Dish("Sparkling water", "750 ml", 350, (), (VEGAN, GF)),
        Dish("Craft cola", "Cane sugar", 375, (), (VEGAN, GF), (DRINK_SIZE,)),
    ],
}

# Open 11:00-23:00 every day, in the restaurant's time zone.
DEMO_OPENING = tuple(OpeningPeriod(day, 11 * 60, 23 * 60) for day in range(7))
DEMO_CAPACITY = {"pickup": 10, "delivery": 6}
DEMO_ZONES = (
    ("Downtown", ("100", "101", "102"), 299, 1500),
    ("Brooklyn", ("112",), 499, 2500),
)
DEMO_TAX_RATE_BP = 888  # 8.875% rounded to basis points


@dataclass(frozen=True)
class SeedResult:
    categories: int
    items: int
    loaded: bool = field(default=True)


async def load_demo(conn: Conn, *, only_if_empty: bool = True) -> SeedResult:
    """Load the demo menu and restaurant rules in one transaction."""
    async with conn.transaction():
        if only_if_empty and not await menu_repo.menu_is_empty(conn):
            return SeedResult(0, 0, loaded=False)
        await management_repo.configure_restaurant(
            conn,
            name="Gourmet Delights",
            tax_rate_bp=DEMO_TAX_RATE_BP,
            slot_minutes=15,
            lead_minutes=20,
            opening=DEMO_OPENING,
            capacity=DEMO_CAPACITY,
            zones=DEMO_ZONES,
        )
        await management_repo.update_details(
            conn, name="Gourmet Delights", address=DEMO_ADDRESS, phone=DEMO_PHONE
        )
        items = 0
        for category_position, (category, dishes) in enumerate(DEMO_MENU.items()):
            category_id = await menu_repo.insert_category(conn, category, category_position)
            for position, dish in enumerate(dishes):
                item_id = await menu_repo.insert_item(
                    conn,
                    category_id=category_id,
                    name=dish.name,
                    description=dish.description,
                    price_cents=dish.price_cents,
                    allergens=dish.allergens,
                    dietary=dish.dietary,
                    stock=dish.stock,
                    position=position,
                )
                for group_position, group in enumerate(dish.groups):
                    await menu_repo.insert_modifier_group(
                        conn,
                        item_id,
                        group.name,
                        group.min_choices,
                        group.max_choices,
                        group.options,
                        group_position,
                    )
                items += 1
        await menu_repo.notify_menu_changed(conn)
    return SeedResult(len(DEMO_MENU), items)
