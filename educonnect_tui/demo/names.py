"""Name and address pools for the demo school (see ``college_people.py``).

The pools mirror what a school office in the Paris suburbs actually types: mostly French
names, with the accents, hyphens, particles and apostrophes that break naive code, and
the other origins common in France. Earlier entries of a pool are drawn more often.
"""

from __future__ import annotations

# Each origin: (surnames, boys' first names, girls' first names, fathers, mothers).
FRENCH_SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre",
    "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier",
    "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
    "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
    "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Boyer", "Denis", "Lemaire",
    "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas",
    "Meunier", "Jean", "Pérez", "Marchand", "Dufour", "Blanchard", "Marie", "Barbier",
    "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre",
    "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal",
    "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Lacroix",
    "Fabre", "Dupuis", "Olivier", "Hubert", "Rivière", "Le Gall", "Le Goff", "Le Bihan",
    "Le Floch", "Guillaume", "Adam", "Moulin", "Berger", "Lecomte", "Ménard", "Fleury",
    "Deschamps", "Carpentier", "Benoît", "Maillard", "Prévost", "Poirier", "Charpentier",
    "Huet", "Carré", "Breton", "Rémy", "Perrot", "Cousin", "de La Fontaine",
    "de Villiers", "Du Pont", "Van der Berg", "O'Connor", "D'Angelo", "Lefèvre-Dumas",
    "Saint-Martin", "Delacroix", "Lévêque", "Bénard", "Crépin", "Jouët", "Brisset",
)  # fmt: skip
FRENCH_BOYS = (
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Maël", "Lucas",
    "Hugo", "Noah", "Liam", "Sacha", "Gabin", "Nathan", "Aaron", "Éthan", "Tom", "Paul",
    "Timéo", "Noé", "Théo", "Nolan", "Axel", "Martin", "Victor", "Mathis", "Clément",
    "Baptiste", "Enzo", "Jean-Baptiste", "Pierre-Louis", "Côme", "Anatole", "Élie",
    "Maxime", "Antoine", "Valentin", "Léon", "Évan", "Loïc", "Mathéo", "Malo", "Eliott",
)  # fmt: skip
FRENCH_GIRLS = (
    "Jade", "Louise", "Emma", "Alice", "Ambre", "Lina", "Rose", "Chloé", "Mia", "Léa",
    "Anna", "Mila", "Julia", "Inès", "Léna", "Zoé", "Zoë", "Agathe", "Juliette", "Lola",
    "Manon", "Romane", "Camille", "Clémence", "Anaïs", "Maëlys", "Héloïse", "Margaux",
    "Éléna", "Marie-Ève", "Anne-Sophie", "Lou", "Capucine", "Salomé", "Océane",
    "Noémie", "Maëlle", "Céleste", "Apolline", "Rachel",
)  # fmt: skip
FRENCH_FATHERS = (
    "Nicolas", "Sébastien", "Julien", "Stéphane", "Christophe", "Frédéric", "Jérôme",
    "Laurent", "David", "Olivier", "Cédric", "Mickaël", "Guillaume", "Grégory", "Thomas",
    "Arnaud", "Jean-François", "Jean-Marc", "Pierre-Yves", "Yannick", "Franck", "Fabrice",
    "Hervé", "Éric", "Benoît", "Damien", "Romain", "Vincent", "François-Xavier",
)  # fmt: skip
FRENCH_MOTHERS = (
    "Nathalie", "Stéphanie", "Sandrine", "Céline", "Aurélie", "Émilie", "Caroline",
    "Virginie", "Sophie", "Isabelle", "Julie", "Élodie", "Karine", "Delphine", "Anne-Laure",
    "Marie-Hélène", "Séverine", "Laëtitia", "Hélène", "Valérie", "Amélie", "Audrey",
    "Gaëlle", "Maud", "Marie-Christine", "Bérénice", "Ségolène",
)  # fmt: skip

PORTUGUESE_SURNAMES = (
    "Da Silva", "Dos Santos", "Pereira", "Ferreira", "Rodrigues", "Fernandes",
    "Gonçalves", "De Oliveira", "De Sousa", "Carvalho", "Lopes", "Teixeira", "d'Almeida",
    "Da Costa", "Magalhães",
)  # fmt: skip
PORTUGUESE_BOYS = ("João", "Tiago", "Gonçalo", "Diogo", "Rafael", "Rodrigo", "Enzo", "Lucas")
PORTUGUESE_GIRLS = ("Inês", "Beatriz", "Leonor", "Mariana", "Lara", "Carolina", "Léa")
PORTUGUESE_FATHERS = ("José", "António", "Manuel", "Paulo", "Rui", "Nuno", "Carlos")
PORTUGUESE_MOTHERS = ("Maria", "Ana", "Sónia", "Cátia", "Fátima", "Sandra", "Conceição")

MAGHREBI_SURNAMES = (
    "Benali", "Belkacem", "Haddad", "Bouzid", "Mansouri", "Cherif", "El Amrani",
    "Aït Ahmed", "Benmoussa", "Ziani", "Boukhari", "Hamidi", "Saïdi", "Brahimi",
    "Khelifi", "Ben Youssef", "El Idrissi", "Meziane", "Amrani", "Djebbar",
)  # fmt: skip
MAGHREBI_BOYS = (
    "Yanis", "Amine", "Adam", "Rayan", "Ilyès", "Mohamed", "Wassim", "Ayoub", "Sami",
    "Naïm", "Ismaël", "Younès", "Bilal", "Mehdi",
)  # fmt: skip
MAGHREBI_GIRLS = (
    "Inès", "Nour", "Sofia", "Yasmine", "Aya", "Lina", "Meryem", "Zineb", "Imane",
    "Sarah", "Kenza", "Assia", "Maïssa",
)  # fmt: skip
MAGHREBI_FATHERS = ("Karim", "Farid", "Rachid", "Mourad", "Nordine", "Samir", "Hakim", "Saïd")
MAGHREBI_MOTHERS = ("Nadia", "Samira", "Fatima", "Malika", "Leïla", "Karima", "Houria", "Naïma")

WEST_AFRICAN_SURNAMES = (
    "N'Diaye", "Diallo", "Traoré", "Koné", "Camara", "Coulibaly", "Sow", "Diop", "Cissé",
    "Keïta", "Touré", "Bamba", "Konaté", "Sylla", "Fofana", "N'Guessan", "Ba", "Sissoko",
)  # fmt: skip
WEST_AFRICAN_BOYS = ("Moussa", "Mamadou", "Ibrahima", "Oumar", "Seydou", "Issa", "Amadou", "Noah")
WEST_AFRICAN_GIRLS = ("Aminata", "Fatoumata", "Awa", "Kadiatou", "Mariama", "Binta", "Aïssatou")
WEST_AFRICAN_FATHERS = ("Abdoulaye", "Boubacar", "Souleymane", "Lamine", "Ousmane", "Modibo")
WEST_AFRICAN_MOTHERS = ("Mariam", "Hawa", "Djeneba", "Kadidia", "Rokia", "Oumou", "Ndèye")

UKRAINIAN_SURNAMES = (
    "Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boiko",
    "Oliinyk",
)  # fmt: skip
UKRAINIAN_BOYS = ("Oleksandr", "Mykyta", "Dmytro", "Bohdan", "Artem", "Maksym")
UKRAINIAN_GIRLS = ("Sofiia", "Anastasiia", "Yeva", "Daryna", "Viktoriia", "Solomiia")
UKRAINIAN_FATHERS = ("Andrii", "Serhii", "Volodymyr", "Yurii", "Oleh")
UKRAINIAN_MOTHERS = ("Olena", "Iryna", "Tetiana", "Nataliia", "Oksana")

VIETNAMESE_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Nguyen", "Tran")
VIETNAMESE_BOYS = ("Minh", "Duy", "Khánh", "Bảo", "Hugo", "Long")
VIETNAMESE_GIRLS = ("Linh", "Thảo", "Anh", "Mai", "Lan-Anh", "Chloé")
VIETNAMESE_FATHERS = ("Tuấn", "Hùng", "Quang", "Thanh")
VIETNAMESE_MOTHERS = ("Hương", "Thị Lan", "Ngọc", "Hà")

OTHER_SURNAMES = (
    "Rossi", "Esposito", "Kowalski", "Nowak", "Yılmaz", "Demir", "Chen", "Wang",
    "Schneider", "Müller", "García", "Popescu", "Gómez", "Ivanova",
)  # fmt: skip
OTHER_BOYS = ("Luca", "Matteo", "Kacper", "Emir", "Yusuf", "Kevin", "Andrei", "Mateo")
OTHER_GIRLS = ("Giulia", "Zuzanna", "Elif", "Ana-Maria", "Wen", "Sofía", "Ioana", "Hanna")
OTHER_FATHERS = ("Marco", "Piotr", "Mehmet", "Wei", "Klaus", "Ion", "Javier")
OTHER_MOTHERS = ("Francesca", "Agnieszka", "Ayşe", "Li", "Ursula", "Elena", "Lucía")

ORIGINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fr": (FRENCH_SURNAMES, FRENCH_BOYS, FRENCH_GIRLS, FRENCH_FATHERS, FRENCH_MOTHERS),
    "pt": (
        PORTUGUESE_SURNAMES,
        PORTUGUESE_BOYS,
        PORTUGUESE_GIRLS,
        PORTUGUESE_FATHERS,
        PORTUGUESE_MOTHERS,
    ),
    "mg": (MAGHREBI_SURNAMES, MAGHREBI_BOYS, MAGHREBI_GIRLS, MAGHREBI_FATHERS, MAGHREBI_MOTHERS),
    "wa": (
        WEST_AFRICAN_SURNAMES,
        WEST_AFRICAN_BOYS,
        WEST_AFRICAN_GIRLS,
        WEST_AFRICAN_FATHERS,
        WEST_AFRICAN_MOTHERS,
    ),
    "ua": (
        UKRAINIAN_SURNAMES,
        UKRAINIAN_BOYS,
        UKRAINIAN_GIRLS,
        UKRAINIAN_FATHERS,
        UKRAINIAN_MOTHERS,
    ),
    "vn": (
        VIETNAMESE_SURNAMES,
        VIETNAMESE_BOYS,
        VIETNAMESE_GIRLS,
        VIETNAMESE_FATHERS,
        VIETNAMESE_MOTHERS,
    ),
    "xx": (OTHER_SURNAMES, OTHER_BOYS, OTHER_GIRLS, OTHER_FATHERS, OTHER_MOTHERS),
}
# Share of families by origin (percent).
ORIGIN_WEIGHTS: dict[str, int] = {"fr": 68, "pt": 8, "mg": 11, "wa": 6, "ua": 2, "vn": 2, "xx": 3}

# Families written exactly as the office typed them, each once: a Cyrillic-script name
# (the login transliterates it), and a very long one (the login is cut to 32 characters).
CYRILLIC_FAMILY = ("Шевченко", "Марія", "Олена")  # surname, girl, mother
LONG_FAMILY = (
    "de Saint-Exupéry de La Tour du Pin-Chambly",
    "Marie-Ange-Séraphine",
    "Charles-Édouard",
)  # surname, girl, father

STREETS = (
    "rue Gabriel Péri", "avenue de la République", "rue Jean Jaurès",
    "boulevard Paul Vaillant-Couturier",
    "rue Marat", "rue Raspail", "avenue Danielle Casanova", "rue de Choisy", "rue Jules Ferry",
    "allée des Tilleuls", "rue Pierre et Marie Curie", "avenue Georges Gosnat", "rue Lénine",
    "place de l'Église", "rue Émile Zola", "quai Jean-Compagnon", "rue Saint-Just",
    "impasse des Lilas", "rue Molière", "avenue Maurice Thorez", "rue de l'Insurrection",
)  # fmt: skip
RESIDENCES = (
    "Résidence Les Tilleuls, bât. B, ", "Cité Gagarine, esc. 4, ", "Résidence du Parc, apt 52, ",
    "Les Hautes-Bruyères, bât. C, ",
)  # fmt: skip
# (postal code, city, share in percent): most families live near the school.
CITIES = (
    ("94200", "Ivry-sur-Seine", 70),
    ("94400", "Vitry-sur-Seine", 14),
    ("94800", "Villejuif", 8),
    ("75013", "Paris", 5),
    ("94270", "Le Kremlin-Bicêtre", 3),
)
EMAIL_DOMAINS = (
    "gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr", "yahoo.fr",
    "outlook.fr", "wanadoo.fr", "icloud.com",
)  # fmt: skip
