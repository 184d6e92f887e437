-- The restaurant's details customers need to reach it: its address and phone number, shown on
-- the menu page with the week's hours (and in the errors that say "call the restaurant").
-- depends: 0022_password_resets

ALTER TABLE restaurant
    ADD COLUMN address text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    ADD COLUMN phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 40);
